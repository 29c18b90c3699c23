/*
 * IndexLifecycle: replays the life of Kafka's memory-mapped .index and
 * .timeindex files (AbstractIndex before KAFKA-19390) with real syscalls, so
 * that orphanmap has traces whose ground truth is known.
 *
 * USAGE
 *   java scripts/repro/IndexLifecycle.java [options]           (source launcher)
 *   javac -d BUILD scripts/repro/IndexLifecycle.java && java -cp BUILD IndexLifecycle [options]
 *
 *   --mode leaky|fixed   leaky (default): resize() maps again without unmapping the
 *                        old 10 MiB buffer, as pre-fix brokers do; fixed: unmap first
 *   --threads N          worker threads, one topic directory each (default 2)
 *   --segments N         segments per thread and round (default 2)
 *   --rounds N           repeat the whole workload N times (default 1)
 *   --dir D              where topic-<t>/ directories go (default: fresh /tmp dir)
 *   --gc                 at the end drop the leaked buffers and run System.gc(), so
 *                        the JVM's cleaner munmaps them (on the Reference Handler thread)
 *   --wait-for FILE      before any work, wait until FILE exists (attach a tracer then)
 *   --ready-file FILE    create FILE once the ground truth has been printed
 *   --hold-seconds S     stay alive S seconds after printing the ground truth
 *
 * One segment, per index file (entry size 8 for .index, 12 for .timeindex):
 *   createNewFile           openat(O_RDWR|O_CREAT|O_EXCL), close
 *   RandomAccessFile "rw"   openat(O_RDWR|O_CREAT)
 *   setLength(max)          ftruncate(fd, 10485760 or 10485756)
 *   map(READ_WRITE, 0, max) mmap(NULL, max, ..., MAP_SHARED, fd, 0)  = mapping A
 *   close                   close(fd); A stays
 *   append entries          stores into A, no syscall
 *   roll (trimToValidSize)  openat, [fixed: munmap A], ftruncate(fd, entries*size),
 *                           mmap(NULL, entries*size, ...) = mapping B, close
 * Retention, per segment, after the thread has rolled all of its segments:
 *   Files.move ATOMIC_MOVE  rename(x.index, x.index.deleted)
 *   invokeCleaner(B)        munmap(B, entries*size)
 *   deleteIfExists          unlink(x.index.deleted); in leaky mode A outlives the file
 *
 * OUTPUT (stdout): "pid=<pid>" first, the workload parameters, then the lines of
 * /proc/self/maps that end in " (deleted)" between the two ground-truth markers.
 * The JVM's own /tmp/hsperfdata_<user>/<pid> is unlinked at exit while still
 * mapped; that happens after the ground truth and is left in on purpose.
 *
 * REQUIREMENTS: JDK 17+ on Linux. Unsafe.invokeCleaner comes from the
 * jdk.unsupported module, reachable without --add-opens.
 */

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

public class IndexLifecycle {
    static final String GROUND_TRUTH_BEGIN = "--- orphanmap ground truth: deleted mappings (/proc/self/maps) ---";
    static final String GROUND_TRUTH_END = "--- end ground truth ---";

    /** Kafka's log.index.size.max.bytes default; the time index rounds it down to a multiple of 12. */
    static final int MAX_INDEX_BYTES = 10 * 1024 * 1024;

    enum Mode { LEAKY, FIXED }

    static final class Options {
        Mode mode = Mode.LEAKY;
        int threads = 2;
        int segments = 2;
        int rounds = 1;
        Path dir;
        boolean gc;
        Path waitFor;
        Path readyFile;
        double holdSeconds;
    }

    /**
     * Superseded buffers that leaky mode never unmaps. Holding them keeps the
     * cleaner from running, the way a broker's old-generation garbage does until a
     * mixed or full GC.
     */
    static final List<MappedByteBuffer> leaked = Collections.synchronizedList(new ArrayList<>());

    public static void main(String[] args) throws Exception {
        Options opt;
        try {
            opt = parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("IndexLifecycle: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }

        long pid = ProcessHandle.current().pid();
        System.out.println("pid=" + pid);
        System.out.flush();

        if (opt.waitFor != null) {
            while (!Files.exists(opt.waitFor)) Thread.sleep(50);
        }

        boolean ownDir = opt.dir == null;
        Path dir = ownDir ? Files.createTempDirectory("orphanmap-repro-") : opt.dir;
        Files.createDirectories(dir);
        System.out.printf("mode=%s threads=%d segments=%d rounds=%d gc=%s dir=%s%n",
                opt.mode.name().toLowerCase(), opt.threads, opt.segments, opt.rounds,
                opt.gc ? "yes" : "no", dir);
        System.out.flush();

        for (int round = 0; round < opt.rounds; round++) {
            runRound(opt, dir, round);
        }

        if (opt.gc) collectLeaked();

        printGroundTruth();
        if (opt.readyFile != null) Files.writeString(opt.readyFile, pid + "\n");
        if (opt.holdSeconds > 0) Thread.sleep((long) (opt.holdSeconds * 1000));

        for (int t = 0; t < opt.threads; t++) Files.deleteIfExists(dir.resolve("topic-" + t));
        if (ownDir) Files.deleteIfExists(dir);
    }

    static void runRound(Options opt, Path dir, int round) throws Exception {
        List<Thread> workers = new ArrayList<>();
        List<Throwable> failures = Collections.synchronizedList(new ArrayList<>());
        for (int t = 0; t < opt.threads; t++) {
            Path topic = dir.resolve("topic-" + t);
            int first = round * opt.segments;
            // Native thread names are cut to 15 bytes; "index-worker-N" shows whole under -Y.
            Thread w = new Thread(() -> {
                try {
                    partitionWork(opt, topic, first);
                } catch (Throwable e) {
                    failures.add(e);
                }
            }, "index-worker-" + t);
            workers.add(w);
            w.start();
        }
        for (Thread w : workers) w.join();
        if (!failures.isEmpty()) {
            Exception e = new Exception("worker failed");
            failures.forEach(e::addSuppressed);
            throw e;
        }
    }

    /** Rolls every segment of one partition, then deletes them all, as retention would. */
    static void partitionWork(Options opt, Path topic, int firstSegment) throws IOException {
        Files.createDirectories(topic);
        List<Index> live = new ArrayList<>();
        for (int s = firstSegment; s < firstSegment + opt.segments; s++) {
            long baseOffset = s * 1000L;
            String stem = String.format("%020d", baseOffset);
            Index offsets = new Index(topic.resolve(stem + ".index").toFile(), 8, opt.mode);
            Index times = new Index(topic.resolve(stem + ".timeindex").toFile(), 12, opt.mode);
            int entries = 3 + s % 4;
            for (int i = 0; i < entries; i++) {
                offsets.appendOffset(i * 10, i * 4096);
                times.appendTime(1_700_000_000_000L + baseOffset + i, i * 10);
            }
            offsets.trimToValidSize();
            times.trimToValidSize();
            live.add(offsets);
            live.add(times);
        }
        for (Index index : live) index.deleteAfterRename();
    }

    /** The parts of Kafka's AbstractIndex that make syscalls. */
    static final class Index {
        final int entrySize;
        final Mode mode;
        File file;
        MappedByteBuffer mmap;
        int entries;

        Index(File file, int entrySize, Mode mode) throws IOException {
            this.file = file;
            this.entrySize = entrySize;
            this.mode = mode;
            boolean created = file.createNewFile();
            try (RandomAccessFile raf = new RandomAccessFile(file, "rw")) {
                if (created) raf.setLength(MAX_INDEX_BYTES / entrySize * entrySize);
                mmap = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, raf.length());
            }
        }

        void appendOffset(int relativeOffset, int position) {
            mmap.putInt(entries * entrySize, relativeOffset);
            mmap.putInt(entries * entrySize + 4, position);
            entries++;
        }

        void appendTime(long timestamp, int relativeOffset) {
            mmap.putLong(entries * entrySize, timestamp);
            mmap.putInt(entries * entrySize + 8, relativeOffset);
            entries++;
        }

        void trimToValidSize() throws IOException {
            resize(entries * entrySize);
        }

        void resize(int newSize) throws IOException {
            try (RandomAccessFile raf = new RandomAccessFile(file, "rw")) {
                if (mode == Mode.FIXED) {
                    unmap(mmap);
                } else {
                    // Pre-fix Kafka only unmapped here on Windows and z/OS.
                    leaked.add(mmap);
                }
                raf.setLength(newSize);
                mmap = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, newSize);
            }
        }

        void deleteAfterRename() throws IOException {
            Path from = file.toPath();
            Path to = Paths.get(file.getPath() + ".deleted");
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
            file = to.toFile();
            unmap(mmap);
            mmap = null;
            Files.deleteIfExists(to);
        }
    }

    static final Object UNSAFE;
    static final Method INVOKE_CLEANER;

    static {
        try {
            Class<?> unsafeClass = Class.forName("sun.misc.Unsafe");
            Field theUnsafe = unsafeClass.getDeclaredField("theUnsafe");
            theUnsafe.setAccessible(true);
            UNSAFE = theUnsafe.get(null);
            INVOKE_CLEANER = unsafeClass.getMethod("invokeCleaner", ByteBuffer.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** munmap on the calling thread, as Kafka's forceUnmap does. */
    static void unmap(MappedByteBuffer buffer) {
        try {
            INVOKE_CLEANER.invoke(UNSAFE, buffer);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    /**
     * Lets the cleaner unmap the leaked buffers. It runs on the Reference Handler
     * thread some time after the collection, so poll the maps instead of
     * guessing a delay.
     */
    static void collectLeaked() throws Exception {
        leaked.clear();
        long deadline = System.nanoTime() + 10_000_000_000L;
        do {
            System.gc();
            Thread.sleep(200);
        } while (countDeletedIndexMappings() > 0 && System.nanoTime() < deadline);
    }

    static List<String> deletedMappings() throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(Paths.get("/proc/self/maps"), StandardCharsets.ISO_8859_1)) {
            if (line.endsWith(" (deleted)")) out.add(line);
        }
        return out;
    }

    static long countDeletedIndexMappings() throws IOException {
        return deletedMappings().stream().filter(l -> l.contains("index.deleted")).count();
    }

    static void printGroundTruth() throws IOException {
        StringBuilder sb = new StringBuilder();
        sb.append(GROUND_TRUTH_BEGIN).append('\n');
        for (String line : deletedMappings()) sb.append(line).append('\n');
        sb.append(GROUND_TRUTH_END).append('\n');
        System.out.print(sb);
        System.out.flush();
    }

    static final String USAGE = "usage: IndexLifecycle [--mode leaky|fixed] [--threads N] [--segments N]"
            + " [--rounds N] [--dir D] [--gc] [--wait-for FILE] [--ready-file FILE] [--hold-seconds S]";

    static Options parse(String[] args) {
        Options o = new Options();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--mode" -> {
                    String m = value(args, ++i, a);
                    switch (m) {
                        case "leaky" -> o.mode = Mode.LEAKY;
                        case "fixed" -> o.mode = Mode.FIXED;
                        default -> throw new IllegalArgumentException("--mode must be leaky or fixed, not " + m);
                    }
                }
                case "--threads" -> o.threads = positive(value(args, ++i, a), a);
                case "--segments" -> o.segments = positive(value(args, ++i, a), a);
                case "--rounds" -> o.rounds = positive(value(args, ++i, a), a);
                case "--dir" -> o.dir = Paths.get(value(args, ++i, a)).toAbsolutePath();
                case "--gc" -> o.gc = true;
                case "--wait-for" -> o.waitFor = Paths.get(value(args, ++i, a));
                case "--ready-file" -> o.readyFile = Paths.get(value(args, ++i, a));
                case "--hold-seconds" -> {
                    String v = value(args, ++i, a);
                    try {
                        o.holdSeconds = Double.parseDouble(v);
                    } catch (NumberFormatException e) {
                        throw new IllegalArgumentException(a + " needs a number, not " + v);
                    }
                    if (!(o.holdSeconds >= 0)) throw new IllegalArgumentException(a + " must not be negative");
                }
                case "-h", "--help" -> {
                    System.out.println(USAGE);
                    System.exit(0);
                }
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        return o;
    }

    static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
        return args[i];
    }

    static int positive(String v, String option) {
        try {
            int n = Integer.parseInt(v);
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // fall through to the message below
        }
        throw new IllegalArgumentException(option + " needs a positive integer, not " + v);
    }
}
