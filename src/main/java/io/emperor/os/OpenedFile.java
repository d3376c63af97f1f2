package io.emperor.os;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import jnr.constants.platform.OpenFlags;
import jnr.ffi.Memory;
import jnr.ffi.Platform;
import jnr.ffi.Pointer;

/**
 * One vassal file, opened once, so that what is judged is what is read (DESIGN §11, issue 11):
 * {@link #open} gets a descriptor, {@link #status()} is its {@code fstat}, and {@link #read} reads
 * that same descriptor. Nothing here blocks on a FIFO, a device or a {@code /proc} file:
 *
 * <ol>
 *   <li>{@code open(path, O_PATH|O_CLOEXEC[|O_NOFOLLOW])}: an {@code O_PATH} descriptor runs no
 *       driver's open (a FIFO does not wait for a writer, {@code /dev/watchdog} is not armed);</li>
 *   <li>{@code fstat} (as {@code statx(fd, "", AT_EMPTY_PATH)}) and {@code fstatfs} of it: what it
 *       is, and on which kind of file system;</li>
 *   <li>only for a regular file, it is opened for reading through {@code /proc/self/fd/N}, which
 *       reaches that same inode, with {@code O_RDONLY|O_NONBLOCK|O_NOCTTY|O_CLOEXEC} (if
 *       {@code /proc} is not mounted: the path again, and the inode must be the same);</li>
 *   <li>{@link #read} reads that descriptor into a {@code byte[]} (a {@code FileChannel} cannot
 *       take {@code O_NONBLOCK}), at most the bytes asked for plus one.</li>
 * </ol>
 * Not thread-safe; close it (it closes both descriptors).
 */
public final class OpenedFile implements AutoCloseable {
    /** {@code O_PATH} (the generic value, also x86_64's and aarch64's). */
    static final int O_PATH = 010000000;
    private static final int O_RDONLY = 0;

    /** File systems whose "files" are kernel interfaces, never vassal files (statfs(2) magic numbers). */
    private static final long PROC = 0x9fa0L;
    private static final long SYSFS = 0x62656572L;
    private static final long DEBUGFS = 0x64626720L;
    private static final long TRACEFS = 0x74726163L;
    private static final long SECURITYFS = 0x73636673L;
    private static final long CGROUP = 0x27e0ebL;
    private static final long CGROUP2 = 0x63677270L;
    private static final long CONFIGFS = 0x62656570L;
    private static final long EFIVARFS = 0xde5e81e4L;
    private static final long BPF = 0xcafe4a11L;
    private static final long SELINUX = 0xf97cff8cL;
    private static final long PSTORE = 0x6165676cL;
    private static final long FUSECTL = 0x65735543L;

    static final int S_IFMT = 0170000;
    static final int S_IFSOCK = 0140000;
    static final int S_IFLNK = 0120000;
    static final int S_IFREG = 0100000;
    static final int S_IFBLK = 0060000;
    static final int S_IFDIR = 0040000;
    static final int S_IFCHR = 0020000;
    static final int S_IFIFO = 0010000;

    private static final int AT_EMPTY_PATH = 0x1000;
    /** STATX_BASIC_STATS: every field of struct stat. */
    private static final int STATX_BASIC_STATS = 0x7ff;
    private static final int STATX_SIZE = 256;
    private static final int ENOSYS = 38;
    private static final int EPERM = 1;
    private static final LibC C = Native.libc();

    /**
     * What {@code fstat} (and {@code fstatfs}) said of the descriptor.
     *
     * @param mode   {@code st_mode}, type bits included
     * @param nlink  hard links to the inode
     * @param fsType {@code f_type} of {@code fstatfs}, or 0 when unknown
     */
    public record Status(long size, long mtimeNanos, long ctimeNanos, long inode, long device, int uid, int gid,
                         int mode, long nlink, long fsType) {
        Status withFileSystem(long type) {
            return new Status(size, mtimeNanos, ctimeNanos, inode, device, uid, gid, mode, nlink, type);
        }

        public boolean isRegular() {
            return (mode & S_IFMT) == S_IFREG;
        }

        /**
         * Null for a regular file on an ordinary file system; else what it is, for a refusal:
         * {@code a FIFO, not a regular file}, {@code on a proc file system (/proc: a kernel interface), not a regular file on disk}.
         */
        public String notAFile() {
            String kind = switch (mode & S_IFMT) {
                case S_IFREG -> null;
                case S_IFIFO -> "a FIFO";
                case S_IFCHR -> "a character device";
                case S_IFBLK -> "a block device";
                case S_IFSOCK -> "a socket";
                case S_IFDIR -> "a directory";
                case S_IFLNK -> "a symlink";
                default -> "of unknown type " + Integer.toOctalString(mode & S_IFMT);
            };
            if (kind != null) {
                return kind + ", not a regular file";
            }
            String fs = pseudoFileSystem(fsType);
            return fs == null ? null : "on a " + fs + " file system (a kernel interface), not a regular file on disk";
        }
    }

    private final Path path;
    private final int pathFd;
    private int readFd = -1;
    private final Status status;

    private OpenedFile(Path path, int pathFd, Status status) {
        this.path = path;
        this.pathFd = pathFd;
        this.status = status;
    }

    /**
     * Opens {@code path} (as an {@code O_PATH} descriptor) and stats it.
     *
     * @param noFollow true when the path was seen as a file, not a symlink, and must still be one
     *                 ({@code O_NOFOLLOW}: a symlink put there meanwhile is opened as itself, a
     *                 symlink, and refused as not a regular file)
     * @throws IOException with the operating system's reason ("No such file or directory")
     */
    public static OpenedFile open(Path path, boolean noFollow) throws IOException {
        int flags = O_PATH | Native.O_CLOEXEC | (noFollow ? OpenFlags.O_NOFOLLOW.intValue() : 0);
        int fd = C.open(path.toString(), flags, 0);
        if (fd < 0) {
            throw new IOException(Native.strerror(Native.errno()));
        }
        try {
            return new OpenedFile(path, fd, stat(fd, true));
        } catch (IOException | RuntimeException e) {
            Native.libc().close(fd);
            throw e;
        }
    }

    /** The {@code fstat} of the descriptor opened. */
    public Status status() {
        return status;
    }

    /**
     * Reads the file from its start: at most {@code max + 1} bytes (so that "more than max" can be
     * told). Only for a regular file ({@link Status#notAFile()} null).
     *
     * @throws IOException with the operating system's reason
     */
    public byte[] read(int max) throws IOException {
        if (status.notAFile() != null) {
            throw new IllegalStateException(path + " is " + status.notAFile());
        }
        if (readFd < 0) {
            readFd = openForReading();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.min(Math.max(status.size(), 0), max) + 1);
        byte[] chunk = new byte[(int) Math.min(64 * 1024, max + 1L)];
        while (out.size() <= max) {
            int want = Math.min(chunk.length, max + 1 - out.size());
            int n = (int) C.read(readFd, chunk, want);
            if (n < 0) {
                int errno = Native.errno();
                if (errno == Native.EINTR) {
                    continue;
                }
                throw new IOException(Native.strerror(errno));
            }
            if (n == 0) {
                break;
            }
            out.write(chunk, 0, n);
        }
        return out.toByteArray();
    }

    private int openForReading() throws IOException {
        int flags = O_RDONLY | Native.O_NONBLOCK | OpenFlags.O_NOCTTY.intValue() | Native.O_CLOEXEC;
        int fd = C.open("/proc/self/fd/" + pathFd, flags, 0);
        boolean viaProc = fd >= 0;
        if (!viaProc) {
            // No /proc: the path again; it must lead to the inode that was judged.
            fd = C.open(path.toString(), flags, 0);
            if (fd < 0) {
                throw new IOException(Native.strerror(Native.errno()));
            }
        }
        try {
            Status again = stat(fd, false);
            if (again.inode() != status.inode() || again.device() != status.device()) {
                throw new IOException("the file was replaced while it was opened");
            }
        } catch (IOException | RuntimeException e) {
            Native.libc().close(fd);
            throw e;
        }
        return fd;
    }

    private static Status stat(int fd, boolean withFileSystem) throws IOException {
        Pointer buf = Memory.allocateDirect(Native.runtime(), STATX_SIZE);
        Status s;
        if (C.statx(fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS, buf) == 0) {
            s = fromStatx(buf);
        } else {
            int errno = Native.errno();
            // A kernel before 4.11, or a seccomp filter that does not know statx: fstat(2) itself.
            if ((errno != ENOSYS && errno != EPERM) || (s = fstatSyscall(fd, buf)) == null) {
                throw new IOException(Native.strerror(errno));
            }
        }
        return withFileSystem ? s.withFileSystem(fileSystem(fd)) : s;
    }

    /** struct statx: the same layout on every architecture. */
    static Status fromStatx(Pointer b) {
        long dev = makedev(b.getInt(136) & 0xffffffffL, b.getInt(140) & 0xffffffffL);
        return new Status(b.getLong(40), nanos(b.getLong(112), b.getInt(120)), nanos(b.getLong(96), b.getInt(104)),
                b.getLong(32), dev, b.getInt(20), b.getInt(24), b.getShort(28) & 0xffff, b.getInt(16) & 0xffffffffL, 0);
    }

    /**
     * The kernel's own {@code struct stat} from the fstat system call, on x86_64 and aarch64 (the
     * generic layout); null on another architecture. Its {@code st_dev} is encoded as glibc's.
     */
    static Status fstatSyscall(int fd, Pointer b) {
        Platform.CPU cpu = Platform.getNativePlatform().getCPU();
        if (cpu == Platform.CPU.X86_64) {
            if (C.syscall(5, fd, b.address(), 0, 0) != 0) {
                return null;
            }
            return new Status(b.getLong(48), nanos(b.getLong(88), b.getLong(96)), nanos(b.getLong(104), b.getLong(112)),
                    b.getLong(8), b.getLong(0), b.getInt(28), b.getInt(32), b.getInt(24), b.getLong(16), 0);
        }
        if (cpu == Platform.CPU.AARCH64) {
            if (C.syscall(80, fd, b.address(), 0, 0) != 0) {
                return null;
            }
            return new Status(b.getLong(48), nanos(b.getLong(88), b.getLong(96)), nanos(b.getLong(104), b.getLong(112)),
                    b.getLong(8), b.getLong(0), b.getInt(24), b.getInt(28), b.getInt(16), b.getInt(20) & 0xffffffffL, 0);
        }
        return null;
    }

    private static long nanos(long seconds, long nanos) {
        return seconds * 1_000_000_000L + nanos;
    }

    /** glibc's makedev(3): the st_dev that stat(2) and the JDK's "unix:dev" give. */
    static long makedev(long major, long minor) {
        return ((major & 0xfffff000L) << 32) | ((major & 0xfffL) << 8) | ((minor & 0xffffff00L) << 12) | (minor & 0xffL);
    }

    /** {@code f_type} of {@code fstatfs} (the first field, a long on 64-bit Linux). */
    private static long fileSystem(int fd) throws IOException {
        Pointer buf = Memory.allocateDirect(Native.runtime(), 256);
        if (C.fstatfs(fd, buf) < 0) {
            throw new IOException("fstatfs: " + Native.strerror(Native.errno()));
        }
        return buf.getLong(0) & 0xffffffffL;
    }

    /** The name of a pseudo file system, or null for one that holds real files. */
    static String pseudoFileSystem(long type) {
        if (type == PROC) {
            return "proc";
        } else if (type == SYSFS) {
            return "sysfs";
        } else if (type == DEBUGFS || type == TRACEFS) {
            return "debugfs";
        } else if (type == SECURITYFS || type == SELINUX) {
            return "securityfs";
        } else if (type == CGROUP || type == CGROUP2) {
            return "cgroup";
        } else if (type == CONFIGFS || type == EFIVARFS || type == BPF || type == PSTORE || type == FUSECTL) {
            return "kernel";
        }
        return null;
    }

    @Override
    public void close() {
        if (readFd >= 0) {
            Native.libc().close(readFd);
            readFd = -1;
        }
        Native.libc().close(pathFd);
    }
}
