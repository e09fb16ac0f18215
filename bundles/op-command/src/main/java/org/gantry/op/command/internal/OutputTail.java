package org.gantry.op.command.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;

/**
 * Drains one output stream of a process on its own thread, keeping only the last {@code keep}
 * characters and counting lines, so that a handler that prints gigabytes costs bounded memory and
 * never blocks on a full pipe.
 */
final class OutputTail implements Runnable {

  private final InputStream in;
  private final int keep;
  private final StringBuilder tail = new StringBuilder();
  private long lines;
  private boolean partialLine;

  OutputTail(InputStream in, int keep) {
    this.in = in;
    this.keep = keep;
  }

  @Override
  public void run() {
    // Malformed UTF-8 becomes U+FFFD (InputStreamReader's default): output is shown, not parsed.
    try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      char[] buf = new char[4096];
      int n;
      while ((n = r.read(buf)) >= 0) {
        append(buf, n);
      }
    } catch (IOException e) {
      // The stream closes under us when the process tree is killed; what was read stays.
    }
  }

  private synchronized void append(char[] buf, int n) {
    for (int i = 0; i < n; i++) {
      if (buf[i] == '\n') {
        lines++;
        partialLine = false;
      } else {
        partialLine = true;
      }
    }
    tail.append(buf, 0, n);
    if (tail.length() > 2 * keep) {
      tail.delete(0, tail.length() - keep);
    }
  }

  /** The last characters read, at most {@code keep}. */
  synchronized String tail() {
    int from = Math.max(0, tail.length() - keep);
    if (from > 0 && Character.isLowSurrogate(tail.charAt(from))) {
      from++;
    }
    return tail.substring(from);
  }

  /** Lines read so far; a last line without its newline counts too. */
  synchronized long lines() {
    return lines + (partialLine ? 1 : 0);
  }
}
