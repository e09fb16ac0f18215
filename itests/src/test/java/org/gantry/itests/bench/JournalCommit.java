package org.gantry.itests.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.gantry.itests.support.JournalRecords;

/**
 * One journal commit as the engine's Journal makes it: a framed record ({@code GJL1}, type, length,
 * CRC-32, payload the size of a real entry) appended to the thing's log and {@code
 * FileChannel.force(false)} (fdatasync). As in the engine, the log is emptied (not timed, not
 * synced) after the two commits of each execution. The engine's class is internal to its bundle, so
 * this probe repeats the few lines it times.
 */
final class JournalCommit {

  private JournalCommit() {}

  static long[] measure(Path dir, int warmup, int samples) throws IOException {
    Files.createDirectories(dir);
    Path log = dir.resolve("journal.log");
    long[] nanos = new long[samples];
    Files.deleteIfExists(log);
    try (FileChannel ch =
        FileChannel.open(
            log, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND)) {
      for (int i = -warmup; i < samples; i++) {
        byte[] record = record(i);
        long t0 = System.nanoTime();
        ByteBuffer buf = ByteBuffer.wrap(record);
        while (buf.hasRemaining()) {
          ch.write(buf);
        }
        ch.force(false);
        long t1 = System.nanoTime();
        if (i >= 0) {
          nanos[i] = t1 - t0;
        }
        if ((i & 1) == 1) {
          ch.truncate(0); // the execution ended: nothing is open
        }
      }
    }
    Files.deleteIfExists(log);
    return nanos;
  }

  private static byte[] record(int i) {
    return JournalRecords.entry(
        "document={\"operation\"\\:\"diagnostics\"}\nexecutionNumber=1\njobId=bench-job-"
            + i
            + "\nphase="
            + ((i & 1) == 0 ? "ACTIVE" : "REPORTING")
            + "\nsequence="
            + i
            + "\nversion=2\n");
  }
}
