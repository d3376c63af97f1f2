/*
 * libemperor-client.so: the CLI's connection to the control socket, through JNI
 * (io.emperor.control.NativeClientSocket; docs/performance.md, "Weight").
 *
 * `emperor status` is typed all day. The JDK's unix-domain SocketChannel costs a client more than
 * the rest of its work: finding the selector provider links the method-handle machinery (a lambda
 * and ServiceLoader), and sun.nio.ch.UnixDomainSockets makes a SecureRandom when first loaded
 * (the security providers). These five calls are all the client needs: one AF_UNIX stream socket,
 * blocking, one request out, answer lines in. Each returns its result, or -errno; the Java side
 * turns -errno into the exception the JDK would have thrown (same class, same strerror text), so
 * the client's messages (ClientErrors) are the same either way. Without this library the client
 * uses the JDK's SocketChannel.
 *
 * Nothing here touches the JVM beyond copying bytes in and out of Java arrays.
 */
#include <jni.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* What NativeClientSocket.ABI expects: a library of another build is not used. */
#define EMPEROR_CLIENT_ABI 1

/* Bytes copied per call through the stack (the JVM's own I/O uses 8 KiB too). */
#define CHUNK 8192

JNIEXPORT jint JNICALL Java_io_emperor_control_NativeClientSocket_abi0(JNIEnv *env, jclass cls)
{
    (void)env;
    (void)cls;
    return EMPEROR_CLIENT_ABI;
}

/*
 * Connects a new blocking AF_UNIX stream socket to `path` (the path's bytes, without a NUL, at
 * most sizeof(sun_path) - 2 of them as with the JDK; the Java side has checked that and says it as
 * the JDK does). The descriptor, or -errno.
 */
JNIEXPORT jint JNICALL Java_io_emperor_control_NativeClientSocket_connect0(JNIEnv *env, jclass cls, jbyteArray path)
{
    (void)cls;
    struct sockaddr_un sa;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    jsize len = (*env)->GetArrayLength(env, path);
    if (len < 0 || (size_t)len > sizeof sa.sun_path - 2)
        return -ENAMETOOLONG;
    (*env)->GetByteArrayRegion(env, path, 0, len, (jbyte *)sa.sun_path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    /*
     * The address length with the NUL, as the JDK passes it (so the empty path is the empty
     * abstract name, ECONNREFUSED, as with the JDK). EINTR: again, as the JDK does.
     */
    socklen_t salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + (size_t)len + 1);
    int rc;
    do {
        rc = connect(fd, (struct sockaddr *)&sa, salen);
    } while (rc < 0 && errno == EINTR);
    if (rc < 0) {
        int err = errno;
        close(fd);
        return -err;
    }
    return fd;
}

/* Reads up to `len` bytes into buf[off..]: the count, 0 at end of stream, or -errno. */
JNIEXPORT jint JNICALL Java_io_emperor_control_NativeClientSocket_read0(JNIEnv *env, jclass cls, jint fd,
                                                                        jbyteArray buf, jint off, jint len)
{
    (void)cls;
    char chunk[CHUNK];
    size_t want = len < CHUNK ? (size_t)len : CHUNK;
    ssize_t n;
    do {
        n = read(fd, chunk, want);
    } while (n < 0 && errno == EINTR);
    if (n < 0)
        return -errno;
    (*env)->SetByteArrayRegion(env, buf, off, (jsize)n, (const jbyte *)chunk);
    return (jint)n;
}

/* Writes buf[off..off+len) in full: 0, or -errno. MSG_NOSIGNAL: a closed peer is EPIPE, not SIGPIPE. */
JNIEXPORT jint JNICALL Java_io_emperor_control_NativeClientSocket_write0(JNIEnv *env, jclass cls, jint fd,
                                                                         jbyteArray buf, jint off, jint len)
{
    (void)cls;
    char chunk[CHUNK];
    while (len > 0) {
        jint part = len < CHUNK ? len : CHUNK;
        (*env)->GetByteArrayRegion(env, buf, off, part, (jbyte *)chunk);
        jint done = 0;
        while (done < part) {
            ssize_t n = send(fd, chunk + done, (size_t)(part - done), MSG_NOSIGNAL);
            if (n < 0) {
                if (errno == EINTR)
                    continue;
                return -errno;
            }
            done += (jint)n;
        }
        off += part;
        len -= part;
    }
    return 0;
}

/* Closes the descriptor: 0 or -errno. */
JNIEXPORT jint JNICALL Java_io_emperor_control_NativeClientSocket_close0(JNIEnv *env, jclass cls, jint fd)
{
    (void)env;
    (void)cls;
    return close(fd) < 0 ? -errno : 0;
}

/*
 * The text of errno `err` as bytes in the process's locale (strerror_r, as the JDK's messages; the
 * Java side decodes them with sun.jnu.encoding, as the JDK does), or null when out of memory.
 */
JNIEXPORT jbyteArray JNICALL Java_io_emperor_control_NativeClientSocket_strerror0(JNIEnv *env, jclass cls, jint err)
{
    (void)cls;
    char buf[256] = "";
    /* The XSI strerror_r, as the JDK's getErrorString: "Unknown error N" for an unknown one. */
    (void)strerror_r(err, buf, sizeof buf);
    buf[sizeof buf - 1] = '\0';
    jsize len = (jsize)strlen(buf);
    jbyteArray bytes = (*env)->NewByteArray(env, len);
    if (bytes != NULL)
        (*env)->SetByteArrayRegion(env, bytes, 0, len, (const jbyte *)buf);
    return bytes;
}
