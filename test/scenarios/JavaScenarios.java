// JavaScenarios - what a JVM does to an index it resizes and then deletes, the
// way Kafka's AbstractIndex did before KAFKA-19390: map it, grow the file, map
// it again without unmapping the old buffer, rename it to .deleted and delete
// it. Both buffers stay referenced, so no GC unmaps them before the JVM exits.
//
// USAGE  java -XX:-UsePerfData -cp DIR JavaScenarios WORKDIR
// Prints "cp" after the delete and waits for a line on stdin: the scenario
// driver (scenarios.py) has the observer read /proc meanwhile.
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.RandomAccessFile;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

public class JavaScenarios {
    static final List<MappedByteBuffer> KEEP = new ArrayList<>();

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Path index = dir.resolve("00000000000000000100.index");
        try (RandomAccessFile file = new RandomAccessFile(index.toFile(), "rw")) {
            file.setLength(8192);
            MappedByteBuffer old = file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 8192);
            old.putLong(0, 42L);
            file.setLength(16384);
            MappedByteBuffer resized = file.getChannel().map(FileChannel.MapMode.READ_WRITE, 0, 16384);
            resized.putLong(8, 43L);
            KEEP.add(old);
            KEEP.add(resized);
        }
        Path deleted = dir.resolve("00000000000000000100.index.deleted");
        Files.move(index, deleted);
        Files.delete(deleted);
        System.out.println("cp");
        System.out.flush();
        new BufferedReader(new InputStreamReader(System.in)).readLine();
        System.out.println("done " + KEEP.size());
    }
}
