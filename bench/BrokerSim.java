/*
 * BrokerSim: a small Kafka-like broker and its clients, for the tracer overhead
 * on a realistic workload (bench/overhead.mjs --workload broker, issue 14 goal 5).
 * Most of what a broker does makes syscalls orphanmap does not follow: socket
 * reads and writes over loopback, epoll, futex hand-offs between network and
 * request-handler threads, log appends and fsync. Index files live the Kafka way
 * (AbstractIndex after KAFKA-19390, as IndexLifecycle --mode fixed) and are rolled
 * and deleted at a fixed number of requests per roll.
 *
 * USAGE
 *   javac -d BUILD bench/BrokerSim.java
 *   java -cp BUILD BrokerSim --role broker --dir D --requests N [options]   prints pid=, port=
 *   java -cp BUILD BrokerSim --role client --port P --requests N [options]  prints connected
 *
 *   --requests N          total requests the clients send and the broker handles (both sides)
 *   --requests-per-roll R one segment roll (and, once a partition holds --keep segments,
 *                         one retention delete) every R handled requests (default 3000)
 *   --partitions P        partition directories under --dir (default 16)
 *   --keep K              segments a partition keeps besides the active one; older ones are
 *                         deleted. Each starts with K + 1, so every roll deletes one (default 2)
 *   --fsync-every F       fdatasync the partition's log every F appends (default 100; 0 = never)
 *   --body B              bytes of a produce request and of a fetch response (default 16384)
 *   --connections C       client connections, one thread each, one request in flight (default 8)
 *   --wait-for FILE       client: connect, then start sending once FILE exists
 *   --ready-file FILE     broker: create FILE once N requests are handled and every
 *                         roll, flush and delete is done
 *   --port P              broker: port to listen on (default 0: any); client: port to connect to
 *
 * The broker (2 network threads with a selector each, 3 request handlers, one
 * scheduler; Kafka's defaults are 3 and 8, scaled to 2 cores):
 *   network thread  epoll_wait, read the 9-byte header and the body, hand the request
 *                   to the handlers (ArrayBlockingQueue: futex), write the response
 *   handler         produce: write() the body to the partition's active .log, every
 *                   4096 bytes store an entry in the mmapped .index and .timeindex
 *                   (no syscall), fdatasync every F appends; fetch: pread 16 KiB
 *                   of the active .log. Every R requests: roll a partition
 *                   (round-robin): trimToValidSize of both indexes (open, munmap,
 *                   ftruncate, mmap, close) and a new segment (a .log opened, two
 *                   indexes created, ftruncated to 10 MiB and mapped)
 *   scheduler       after a roll: fsync the old .log and msync its indexes; when the
 *                   partition holds more than K segments, delete the oldest: rename
 *                   its three files to .deleted, munmap the indexes, close the log,
 *                   unlink the three (Kafka waits file.delete.delay.ms first)
 *
 * OUTPUT: broker "pid=<pid>", "port=<port>", then "handled=<n> rolls=<r> deleted=<d>"
 * when done; client "connected", then "client done".
 *
 * REQUIREMENTS: JDK 17+ on Linux (Unsafe.invokeCleaner from jdk.unsupported).
 */

import java.io.File;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

public class BrokerSim {
    static final byte PRODUCE = 0;
    static final byte FETCH = 1;
    static final int HEADER = 9; // int length of what follows, byte type, int partition
    static final int MAX_INDEX_BYTES = 10 * 1024 * 1024;
    static final int INDEX_INTERVAL_BYTES = 4096;

    static String role;
    static int port;
    static Path dir;
    static Path waitFor;
    static Path readyFile;
    static long requests = -1;
    static int requestsPerRoll = 3000;
    static int partitionCount = 16;
    static int keep = 2;
    static int fsyncEvery = 100;
    static int body = 16384;
    static int connections = 8;

    /** Responses written whole: the broker is done when every request has its answer on the wire. */
    static final AtomicLong RESPONDED = new AtomicLong();
    static final AtomicInteger OPEN_CONNECTIONS = new AtomicInteger();
    static final Object FINISHED = new Object();

    public static void main(String[] args) throws Exception {
        try {
            parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("BrokerSim: " + e.getMessage());
            System.exit(2);
        }
        if (role.equals("broker")) new Broker().run();
        else runClient();
    }

    // ---- client -----------------------------------------------------------------

    static void runClient() throws Exception {
        List<SocketChannel> channels = new ArrayList<>();
        for (int c = 0; c < connections; c++) {
            SocketChannel ch = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            ch.socket().setTcpNoDelay(true);
            channels.add(ch);
        }
        System.out.println("connected");
        System.out.flush();
        if (waitFor != null) {
            while (!Files.exists(waitFor)) Thread.sleep(5);
        }
        List<Thread> threads = new ArrayList<>();
        AtomicInteger failures = new AtomicInteger();
        for (int c = 0; c < connections; c++) {
            SocketChannel ch = channels.get(c);
            long share = requests / connections + (c < requests % connections ? 1 : 0);
            int seed = c;
            Thread t = new Thread(() -> {
                try {
                    clientLoop(ch, share, seed);
                } catch (Exception e) {
                    e.printStackTrace();
                    failures.incrementAndGet();
                }
            }, "client-" + c);
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) t.join();
        if (failures.get() > 0) System.exit(1);
        System.out.println("client done");
    }

    static void clientLoop(SocketChannel ch, long count, int seed) throws IOException {
        ByteBuffer produce = ByteBuffer.allocateDirect(HEADER + body);
        ByteBuffer fetch = ByteBuffer.allocateDirect(HEADER);
        ByteBuffer reply = ByteBuffer.allocateDirect(4 + body);
        ByteBuffer length = ByteBuffer.allocate(4);
        long state = seed * 0x9E3779B97F4A7C15L + 1;
        for (long i = 0; i < count; i++) {
            state ^= state << 13;
            state ^= state >>> 7;
            state ^= state << 17;
            int partition = (int) Math.floorMod(state, (long) partitionCount);
            ByteBuffer request = (i & 1) == 0 ? produce : fetch;
            request.clear();
            request.putInt(request.capacity() - 4).put((i & 1) == 0 ? PRODUCE : FETCH).putInt(partition);
            request.position(0).limit(request.capacity());
            while (request.hasRemaining()) ch.write(request);
            length.clear();
            while (length.hasRemaining()) if (ch.read(length) < 0) throw new IOException("broker closed");
            int n = length.getInt(0);
            reply.clear().limit(n);
            while (reply.hasRemaining()) if (ch.read(reply) < 0) throw new IOException("broker closed");
        }
    }

    // ---- broker -----------------------------------------------------------------

    static final class Request {
        final Processor processor;
        final Connection connection;
        final byte type;
        final int partition;
        final ByteBuffer payload;

        Request(Processor processor, Connection connection, byte type, int partition, ByteBuffer payload) {
            this.processor = processor;
            this.connection = connection;
            this.type = type;
            this.partition = partition;
            this.payload = payload;
        }
    }

    static final class Connection {
        final SocketChannel channel;
        final ByteBuffer header = ByteBuffer.allocate(HEADER);
        final ByteBuffer payload = ByteBuffer.allocateDirect(body);
        final ByteBuffer response = ByteBuffer.allocateDirect(4 + body);
        SelectionKey key;

        Connection(SocketChannel channel) {
            this.channel = channel;
        }
    }

    /** A network thread: its own selector, reads requests, writes responses (Kafka's Processor). */
    static final class Processor extends Thread {
        final Selector selector;
        final BlockingQueue<Request> requests;
        final ConcurrentLinkedQueue<SocketChannel> accepted = new ConcurrentLinkedQueue<>();
        final ConcurrentLinkedQueue<Connection> responses = new ConcurrentLinkedQueue<>();
        volatile boolean stopping;

        Processor(int id, BlockingQueue<Request> requests) throws IOException {
            super("network-" + id);
            this.selector = Selector.open();
            this.requests = requests;
        }

        void accept(SocketChannel channel) {
            accepted.add(channel);
            selector.wakeup();
        }

        void respond(Connection connection) {
            responses.add(connection);
            selector.wakeup();
        }

        @Override
        public void run() {
            try {
                while (!stopping) {
                    selector.select(300);
                    SocketChannel channel;
                    while ((channel = accepted.poll()) != null) {
                        channel.configureBlocking(false);
                        channel.socket().setTcpNoDelay(true);
                        Connection connection = new Connection(channel);
                        connection.key = channel.register(selector, SelectionKey.OP_READ, connection);
                        OPEN_CONNECTIONS.incrementAndGet();
                    }
                    Connection done;
                    while ((done = responses.poll()) != null) write(done);
                    Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
                    while (keys.hasNext()) {
                        SelectionKey key = keys.next();
                        keys.remove();
                        if (!key.isValid()) continue;
                        Connection connection = (Connection) key.attachment();
                        if (key.isReadable()) read(connection);
                        if (key.isValid() && key.isWritable()) write(connection);
                    }
                }
            } catch (IOException | InterruptedException e) {
                if (!stopping) throw new RuntimeException(e);
            }
        }

        private void read(Connection c) throws IOException, InterruptedException {
            if (c.header.hasRemaining()) {
                if (c.channel.read(c.header) < 0) {
                    close(c);
                    return;
                }
                if (c.header.hasRemaining()) return;
                c.payload.clear().limit(c.header.getInt(0) - 5);
            }
            if (c.payload.hasRemaining() && c.channel.read(c.payload) < 0) {
                close(c);
                return;
            }
            if (c.payload.hasRemaining()) return;
            c.payload.flip();
            // One request in flight per connection, as Kafka mutes a channel until it answers.
            c.key.interestOps(0);
            requests.put(new Request(this, c, c.header.get(4), c.header.getInt(5), c.payload));
        }

        private void write(Connection c) throws IOException {
            c.channel.write(c.response);
            if (c.response.hasRemaining()) {
                c.key.interestOps(SelectionKey.OP_WRITE);
                return;
            }
            c.header.clear();
            c.key.interestOps(SelectionKey.OP_READ);
            if (RESPONDED.incrementAndGet() >= BrokerSim.requests) {
                synchronized (FINISHED) {
                    FINISHED.notifyAll();
                }
            }
        }

        private void close(Connection c) throws IOException {
            c.key.cancel();
            c.channel.close();
            OPEN_CONNECTIONS.decrementAndGet();
            synchronized (FINISHED) {
                FINISHED.notifyAll();
            }
        }
    }

    static final class Broker {
        final BlockingQueue<Request> queue = new ArrayBlockingQueue<>(500);
        final AtomicLong handled = new AtomicLong();
        final AtomicInteger rolls = new AtomicInteger();
        final AtomicInteger deleted = new AtomicInteger();
        final ExecutorService scheduler = Executors.newSingleThreadExecutor(r -> new Thread(r, "kafka-scheduler"));
        final Partition[] partitions = new Partition[partitionCount];
        volatile Throwable failure;

        void run() throws Exception {
            if (dir == null) throw new IllegalArgumentException("--dir is needed");
            if (requests < 0) throw new IllegalArgumentException("--requests is needed");
            Files.createDirectories(dir);
            for (int p = 0; p < partitionCount; p++) partitions[p] = new Partition(dir.resolve("topic-" + p));
            // Start in the steady state: every partition already holds --keep segments, so each
            // roll from now on is followed by one retention delete.
            for (Partition p : partitions) {
                while (p.segments.size() <= keep) {
                    p.active.offsets.trimToValidSize();
                    p.active.times.trimToValidSize();
                    p.active.flush();
                    p.active = new Segment(p.dir, p.active.baseOffset + 1);
                    p.segments.add(p.active);
                }
            }
            ServerSocketChannel server = ServerSocketChannel.open();
            server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
            List<Processor> processors = new ArrayList<>();
            for (int i = 0; i < 2; i++) processors.add(new Processor(i, queue));
            for (Processor p : processors) p.start();
            List<Thread> handlers = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                Thread h = new Thread(this::handle, "data-plane-handler-" + i);
                h.setDaemon(true);
                handlers.add(h);
                h.start();
            }
            System.out.println("pid=" + ProcessHandle.current().pid());
            System.out.println("port=" + server.socket().getLocalPort());
            System.out.flush();
            Thread acceptor = new Thread(() -> {
                int next = 0;
                try {
                    while (true) processors.get(next++ % processors.size()).accept(server.accept());
                } catch (IOException e) {
                    // closed at the end
                }
            }, "acceptor");
            acceptor.setDaemon(true);
            acceptor.start();

            synchronized (FINISHED) {
                while (RESPONDED.get() < requests && failure == null) FINISHED.wait(100);
            }
            if (failure != null) throw new Exception("broker failed", failure);
            // Every roll's flush and delete is queued by now: wait for them.
            scheduler.shutdown();
            if (!scheduler.awaitTermination(120, TimeUnit.SECONDS)) throw new Exception("scheduler did not finish");
            if (failure != null) throw new Exception("broker failed", failure);
            if (readyFile != null) Files.writeString(readyFile, ProcessHandle.current().pid() + "\n");
            System.out.println("handled=" + handled.get() + " rolls=" + rolls.get() + " deleted=" + deleted.get());
            System.out.flush();
            // Alive until the clients hang up (so that whoever timed the run can read this
            // process's CPU time, and no client sees the broker go first).
            long deadline = System.nanoTime() + 60_000_000_000L;
            synchronized (FINISHED) {
                while (OPEN_CONNECTIONS.get() > 0 && System.nanoTime() < deadline) FINISHED.wait(100);
            }
            for (Processor p : processors) p.stopping = true;
            server.close();
            System.exit(0);
        }

        void handle() {
            try {
                while (true) {
                    Request r = queue.take();
                    Partition p = partitions[r.partition];
                    ByteBuffer out = r.connection.response;
                    out.clear();
                    if (r.type == PRODUCE) {
                        long offset = p.append(r.payload);
                        out.putInt(8).putLong(offset).flip();
                    } else {
                        out.putInt(body).limit(4 + body);
                        p.fetch(out);
                        out.position(0).limit(4 + body);
                    }
                    long n = handled.incrementAndGet();
                    if (n % requestsPerRoll == 0) roll(partitions[(int) ((n / requestsPerRoll) % partitionCount)]);
                    r.processor.respond(r.connection);
                }
            } catch (Throwable e) {
                failure = e;
                synchronized (FINISHED) {
                    FINISHED.notifyAll();
                }
            }
        }

        /** Log.roll: trim the active segment's indexes, start a new one; flush and retention on the scheduler. */
        void roll(Partition p) throws IOException {
            Segment old;
            synchronized (p) {
                old = p.active;
                old.offsets.trimToValidSize();
                old.times.trimToValidSize();
                p.active = new Segment(p.dir, Math.max(old.nextOffset, old.baseOffset + 1));
                p.segments.add(p.active);
            }
            rolls.incrementAndGet();
            scheduler.execute(() -> {
                try {
                    old.flush();
                    Segment expired = null;
                    synchronized (p) {
                        if (p.segments.size() > keep + 1) expired = p.segments.removeFirst();
                    }
                    if (expired != null) {
                        expired.delete();
                        deleted.incrementAndGet();
                    }
                } catch (Throwable e) {
                    failure = e;
                }
            });
        }
    }

    static final class Partition {
        final Path dir;
        final ArrayDeque<Segment> segments = new ArrayDeque<>();
        Segment active;

        Partition(Path dir) throws IOException {
            this.dir = dir;
            Files.createDirectories(dir);
            active = new Segment(dir, 0);
            segments.add(active);
        }

        synchronized long append(ByteBuffer records) throws IOException {
            return active.append(records);
        }

        synchronized void fetch(ByteBuffer into) throws IOException {
            active.fetch(into);
        }
    }

    static final class Segment {
        final long baseOffset;
        Path log;
        final FileChannel channel;
        final Index offsets;
        final Index times;
        long nextOffset;
        long size;
        long bytesSinceIndex;
        int appends;

        Segment(Path dir, long baseOffset) throws IOException {
            this.baseOffset = baseOffset;
            this.nextOffset = baseOffset;
            String stem = String.format("%020d", baseOffset);
            log = dir.resolve(stem + ".log");
            channel = FileChannel.open(log, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE);
            offsets = new Index(dir.resolve(stem + ".index").toFile(), 8);
            times = new Index(dir.resolve(stem + ".timeindex").toFile(), 12);
        }

        long append(ByteBuffer records) throws IOException {
            long offset = nextOffset;
            int length = records.remaining();
            while (records.hasRemaining()) channel.write(records);
            nextOffset += 16;
            size += length;
            bytesSinceIndex += length;
            if (bytesSinceIndex >= INDEX_INTERVAL_BYTES && offsets.hasRoom() && times.hasRoom()) {
                offsets.appendOffset((int) (offset - baseOffset), (int) (size - length));
                times.appendTime(System.currentTimeMillis(), (int) (offset - baseOffset));
                bytesSinceIndex = 0;
            }
            if (fsyncEvery > 0 && ++appends % fsyncEvery == 0) channel.force(false);
            return offset;
        }

        void fetch(ByteBuffer into) throws IOException {
            long from = size > body ? (size - body) / 2 : 0;
            while (into.hasRemaining()) {
                int n = channel.read(into, from);
                if (n <= 0) break;
                from += n;
            }
        }

        void flush() throws IOException {
            channel.force(true);
            offsets.mmap.force();
            times.mmap.force();
        }

        /** LogSegment.deleteIfExists after the .deleted rename, without file.delete.delay.ms. */
        void delete() throws IOException {
            Path logDeleted = Paths.get(log + ".deleted");
            Files.move(log, logDeleted, StandardCopyOption.ATOMIC_MOVE);
            offsets.renameToDeleted();
            times.renameToDeleted();
            offsets.close();
            times.close();
            channel.close();
            Files.deleteIfExists(logDeleted);
            Files.deleteIfExists(offsets.file.toPath());
            Files.deleteIfExists(times.file.toPath());
        }
    }

    /** The parts of Kafka's AbstractIndex that make syscalls (after KAFKA-19390: unmap before remapping). */
    static final class Index {
        final int entrySize;
        File file;
        MappedByteBuffer mmap;
        int entries;

        Index(File file, int entrySize) throws IOException {
            this.file = file;
            this.entrySize = entrySize;
            boolean created = file.createNewFile();
            try (RandomAccessFile raf = new RandomAccessFile(file, "rw")) {
                if (created) raf.setLength(MAX_INDEX_BYTES / entrySize * entrySize);
                mmap = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, raf.length());
            }
        }

        boolean hasRoom() {
            return (entries + 1) * entrySize <= mmap.capacity();
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
            int newSize = Math.max(entries, 1) * entrySize;
            try (RandomAccessFile raf = new RandomAccessFile(file, "rw")) {
                unmap(mmap);
                raf.setLength(newSize);
                mmap = raf.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, newSize);
            }
        }

        void renameToDeleted() throws IOException {
            Path to = Paths.get(file.getPath() + ".deleted");
            Files.move(file.toPath(), to, StandardCopyOption.ATOMIC_MOVE);
            file = to.toFile();
        }

        void close() {
            unmap(mmap);
            mmap = null;
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

    static void unmap(MappedByteBuffer buffer) {
        try {
            INVOKE_CLEANER.invoke(UNSAFE, buffer);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        } catch (InvocationTargetException e) {
            throw new IllegalStateException(e.getCause());
        }
    }

    static void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            switch (a) {
                case "--role" -> {
                    role = value(args, ++i, a);
                    if (!role.equals("broker") && !role.equals("client")) throw new IllegalArgumentException("--role is broker or client");
                }
                case "--port" -> port = Integer.parseInt(value(args, ++i, a));
                case "--dir" -> dir = Paths.get(value(args, ++i, a)).toAbsolutePath();
                case "--wait-for" -> waitFor = Paths.get(value(args, ++i, a));
                case "--ready-file" -> readyFile = Paths.get(value(args, ++i, a));
                case "--requests" -> requests = positive(value(args, ++i, a), a);
                case "--requests-per-roll" -> requestsPerRoll = (int) positive(value(args, ++i, a), a);
                case "--partitions" -> partitionCount = (int) positive(value(args, ++i, a), a);
                case "--keep" -> keep = (int) positive(value(args, ++i, a), a);
                case "--fsync-every" -> fsyncEvery = Integer.parseInt(value(args, ++i, a));
                case "--body" -> body = (int) positive(value(args, ++i, a), a);
                case "--connections" -> connections = (int) positive(value(args, ++i, a), a);
                default -> throw new IllegalArgumentException("unknown option " + a);
            }
        }
        if (role == null) throw new IllegalArgumentException("--role broker|client is needed");
        if (requests < 0) throw new IllegalArgumentException("--requests is needed");
    }

    static String value(String[] args, int i, String option) {
        if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
        return args[i];
    }

    static long positive(String v, String option) {
        try {
            long n = Long.parseLong(v);
            if (n > 0) return n;
        } catch (NumberFormatException e) {
            // below
        }
        throw new IllegalArgumentException(option + " needs a positive integer, not " + v);
    }
}
