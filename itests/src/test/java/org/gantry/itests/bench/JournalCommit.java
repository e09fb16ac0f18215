package org.gantry.itests.bench;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * One journal commit as the engine's AtomicFiles makes it: write a temporary file, {@code
 * FileChannel.force(true)}, rename it over the entry with ATOMIC_MOVE, fsync the folder. The
 * content is the size of a real entry.
 */
final class JournalCommit {

  private JournalCommit() {}

  static long[] measure(Path dir, int warmup, int samples) throws IOException {
    Files.createDirectories(dir);
    Path target = dir.resolve("bench-1.exec");
    long[] nanos = new long[samples];
    for (int i = -warmup; i < samples; i++) {
      byte[] content = entry(i);
      long t0 = System.nanoTime();
      commit(target, content);
      long t1 = System.nanoTime();
      if (i >= 0) {
        nanos[i] = t1 - t0;
      }
    }
    Files.deleteIfExists(target);
    return nanos;
  }

  private static byte[] entry(int i) {
    String body =
        "document={\"operation\":\"diagnostics\"}\nexecutionNumber=1\njobId=bench-job-"
            + i
            + "\nphase=ACTIVE\nsequence="
            + i
            + "\nversion=2\ncheckpoints=\nterminalDetails=\nterminalStatus=\n"
            + "workDir=/var/lib/gantry/work/bench-thing/bench-job-"
            + i
            + "-1\n";
    return ("#crc32=00000000\n" + body).getBytes(StandardCharsets.UTF_8);
  }

  private static void commit(Path target, byte[] bytes) throws IOException {
    Path dir = target.getParent();
    Path tmp = dir.resolve(target.getFileName() + ".tmp");
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        ch.write(buf);
      }
      ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }
}
