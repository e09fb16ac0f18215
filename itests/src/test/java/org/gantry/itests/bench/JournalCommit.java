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
 * CRC-32, payload the size of a real entry) written over the zeros after the log's last record,
 * then {@code FileChannel.force(false)} (fdatasync). As in the engine, the two commits of each
 * execution are followed by a closing record (not timed, not synced), and a log whose zeros are
 * used up is rewritten with fresh ones (not timed). The engine's class is internal to its bundle,
 * so this probe repeats the few lines it times.
 */
final class JournalCommit {

  private JournalCommit() {}

  static long[] measure(Path dir, int warmup, int samples) throws IOException {
    Files.createDirectories(dir);
    Path log = dir.resolve("journal.log");
    long[] nanos = new long[samples];
    FileChannel ch = fresh(log);
    try {
      long end = 0;
      for (int i = -warmup; i < samples; i++) {
        byte[] record = record(i);
        byte[] closed = JournalRecords.closed("bench-job-" + i + "#1");
        if (end + record.length + closed.length > JournalRecords.REGION) {
          ch.close();
          ch = fresh(log);
          end = 0;
        }
        long t0 = System.nanoTime();
        end += write(ch, record, end);
        ch.force(false);
        long t1 = System.nanoTime();
        if (i >= 0) {
          nanos[i] = t1 - t0;
        }
        if ((i & 1) == 1) {
          end += write(ch, closed, end); // the execution ended
        }
      }
    } finally {
      ch.close();
    }
    Files.deleteIfExists(log);
    return nanos;
  }

  /** A log of zeros only, on disk with its length, as the engine leaves it after a rewrite. */
  private static FileChannel fresh(Path log) throws IOException {
    Files.deleteIfExists(log);
    FileChannel ch = FileChannel.open(log, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
    write(ch, new byte[JournalRecords.REGION], 0);
    ch.force(true);
    return ch;
  }

  private static int write(FileChannel ch, byte[] bytes, long at) throws IOException {
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    while (buf.hasRemaining()) {
      ch.write(buf, at + buf.position());
    }
    return bytes.length;
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
