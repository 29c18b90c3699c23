import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * GrowByWrite DIR - a thread maps DIR/grown.idx at 1 MiB (FileChannel.map
 * extends the file by ftruncate), grows it past its end with
 * FileChannel.write at a position (pwrite64, no ftruncate) and maps it again
 * whole while the first buffer is live: Kafka's index resize, grown by write.
 * It then maps DIR/shrunk.idx at 1 MiB, shrinks it with FileChannel.truncate
 * (ftruncate) and maps it again: the resize the trace shows. Every buffer is
 * kept referenced (no GC unmaps it). Then it prints each line of
 * /proc/self/maps under DIR as "TRUTH <line>" and "TRUTHPID <pid>", and exits.
 */
public class GrowByWrite {
  static final int MIB = 1 << 20;
  static final List<MappedByteBuffer> keep = new ArrayList<>();

  public static void main(String[] args) throws Exception {
    Path dir = Paths.get(args[0]);
    Files.createDirectories(dir);
    Thread mapper = new Thread(() -> {
      try {
        try (FileChannel ch = open(dir.resolve("grown.idx"))) {
          keep.add(ch.map(FileChannel.MapMode.READ_WRITE, 0, MIB));
          ch.write(ByteBuffer.allocate(4096), MIB + 8192);
          keep.add(ch.map(FileChannel.MapMode.READ_WRITE, 0, ch.size()));
        }
        try (FileChannel ch = open(dir.resolve("shrunk.idx"))) {
          keep.add(ch.map(FileChannel.MapMode.READ_WRITE, 0, MIB));
          ch.truncate(8192);
          keep.add(ch.map(FileChannel.MapMode.READ_WRITE, 0, 8192));
        }
      } catch (IOException e) {
        throw new RuntimeException(e);
      }
    }, "mapper");
    mapper.start();
    mapper.join();
    for (String line : Files.readAllLines(Paths.get("/proc/self/maps"))) if (line.contains(dir.toString())) System.out.println("TRUTH " + line);
    System.out.println("TRUTHPID " + ProcessHandle.current().pid());
    System.exit(0);
  }

  static FileChannel open(Path path) throws IOException {
    return FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
  }
}
