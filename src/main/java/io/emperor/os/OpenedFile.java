package io.emperor.os;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Path;
import jnr.constants.platform.OpenFlags;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Memory;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.SaveError;
import jnr.posix.FileStat;
import jnr.posix.NanosecondFileStat;
import jnr.posix.POSIX;
import jnr.posix.POSIXFactory;

/**
 * One vassal file, opened once, so that what is judged is what is read (DESIGN §11, issue 11):
 * {@link #open} gets a descriptor, {@link #status()} is its {@code fstat}, and {@link #read} reads
 * that same descriptor. Nothing here blocks on a FIFO, a device or a {@code /proc} file:
 *
 * <ol>
 *   <li>{@code open(path, O_PATH|O_CLOEXEC[|O_NOFOLLOW])}: an {@code O_PATH} descriptor runs no
 *       driver's open (a FIFO does not wait for a writer, {@code /dev/watchdog} is not armed);</li>
 *   <li>{@code fstat} and {@code fstatfs} of it: what it is, and on which kind of file system;</li>
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

    /** fstatfs(2), which jnr-posix does not offer. */
    public interface StatFs {
        @SaveError
        int fstatfs(int fd, Pointer buf);
    }

    private static final POSIX POSIX_ = POSIXFactory.getNativePOSIX();
    private static final StatFs STATFS = LibraryLoader.create(StatFs.class).load("c");

    /**
     * What {@code fstat} (and {@code fstatfs}) said of the descriptor.
     *
     * @param mode   {@code st_mode}, type bits included
     * @param nlink  hard links to the inode
     * @param fsType {@code f_type} of {@code fstatfs}, or 0 when unknown
     */
    public record Status(long size, long mtimeNanos, long ctimeNanos, long inode, long device, int uid, int gid,
                         int mode, long nlink, long fsType) {
        public boolean isRegular() {
            return (mode & FileStat.S_IFMT) == FileStat.S_IFREG;
        }

        /**
         * Null for a regular file on an ordinary file system; else what it is, for a refusal:
         * {@code a FIFO, not a regular file}, {@code on a proc file system (/proc: a kernel interface), not a regular file on disk}.
         */
        public String notAFile() {
            String kind = switch (mode & FileStat.S_IFMT) {
                case FileStat.S_IFREG -> null;
                case FileStat.S_IFIFO -> "a FIFO";
                case FileStat.S_IFCHR -> "a character device";
                case FileStat.S_IFBLK -> "a block device";
                case FileStat.S_IFSOCK -> "a socket";
                case FileStat.S_IFDIR -> "a directory";
                case FileStat.S_IFLNK -> "a symlink";
                default -> "of unknown type " + Integer.toOctalString(mode & FileStat.S_IFMT);
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
        int fd = POSIX_.open(path.toString(), flags, 0);
        if (fd < 0) {
            throw new IOException(Native.strerror(POSIX_.errno()));
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
            int n = POSIX_.read(readFd, chunk, want);
            if (n < 0) {
                int errno = POSIX_.errno();
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
        int fd = POSIX_.open("/proc/self/fd/" + pathFd, flags, 0);
        boolean viaProc = fd >= 0;
        if (!viaProc) {
            // No /proc: the path again; it must lead to the inode that was judged.
            fd = POSIX_.open(path.toString(), flags, 0);
            if (fd < 0) {
                throw new IOException(Native.strerror(POSIX_.errno()));
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
        FileStat st = POSIX_.allocateStat();
        if (POSIX_.fstat(fd, st) < 0) {
            throw new IOException(Native.strerror(POSIX_.errno()));
        }
        long mtime = st.mtime() * 1_000_000_000L;
        long ctime = st.ctime() * 1_000_000_000L;
        if (st instanceof NanosecondFileStat n) {
            mtime += n.mTimeNanoSecs();
            ctime += n.cTimeNanoSecs();
        }
        return new Status(st.st_size(), mtime, ctime, st.ino(), st.dev(), st.uid(), st.gid(), st.mode(), st.nlink(),
                withFileSystem ? fileSystem(fd) : 0);
    }

    /** {@code f_type} of {@code fstatfs} (the first field, a long on 64-bit Linux). */
    private static long fileSystem(int fd) throws IOException {
        Pointer buf = Memory.allocateDirect(Native.runtime(), 256);
        if (STATFS.fstatfs(fd, buf) < 0) {
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
