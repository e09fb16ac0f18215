package org.gantry.itests.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * The benchmark's figures, one {@code name: value unit} line each, printed as they are measured and
 * written to a file at the end.
 */
final class Figures {

  private final List<String> lines = new ArrayList<>();

  /** Median and 99th percentile of samples in nanoseconds. */
  record Spread(double medianMillis, double p99Millis, int samples) {

    static Spread of(long[] nanos) {
      if (nanos.length == 0) {
        throw new IllegalArgumentException("no samples: nothing was measured");
      }
      long[] sorted = nanos.clone();
      Arrays.sort(sorted);
      int p99 = (int) Math.ceil(sorted.length * 0.99) - 1;
      return new Spread(
          sorted[sorted.length / 2] / 1e6, sorted[Math.max(0, p99)] / 1e6, sorted.length);
    }
  }

  void note(String text) {
    String line = "# " + text;
    lines.add(line);
    System.out.println(line);
  }

  void add(String name, double value, String unit) {
    String line = String.format(Locale.ROOT, "%s: %.3f %s", name, value, unit);
    lines.add(line);
    System.out.println(line);
  }

  void spread(String name, Spread s) {
    add(name + ".median", s.medianMillis(), "ms");
    add(name + ".p99", s.p99Millis(), "ms");
  }

  void write(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.write(file, lines);
    System.out.println("# figures written to " + file);
  }
}
