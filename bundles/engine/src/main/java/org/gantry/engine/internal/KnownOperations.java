package org.gantry.engine.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operation types ever installed on this gateway ({@code <data>/engine/operations.known}, one
 * per line). After a restart the gateway's operation bundles start in their own time; a job naming
 * a type in this list is held for a while instead of being refused, because its bundle is on its
 * way. A type the gateway never had is refused at once.
 */
final class KnownOperations {

  private static final Logger LOG = LoggerFactory.getLogger(KnownOperations.class);

  private final Path file;
  private final Set<String> types = new TreeSet<>();

  KnownOperations(Path dataDir) {
    this.file = dataDir.resolve("engine").resolve("operations.known");
    try {
      if (Files.exists(file)) {
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
          if (!line.isBlank()) {
            types.add(line.strip());
          }
        }
      }
    } catch (IOException e) {
      LOG.warn(
          "Cannot read {} ({}); jobs of operations not installed yet are refused at once",
          file,
          e.getMessage());
    }
  }

  synchronized boolean contains(String type) {
    return types.contains(type);
  }

  /** Remembers a type; a failure to write is logged, never thrown (it only costs a wait). */
  synchronized void add(String type) {
    if (type == null || type.isBlank() || !types.add(type)) {
      return;
    }
    try {
      Files.createDirectories(file.getParent());
      AtomicFiles.write(file, (String.join("\n", types) + "\n").getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      LOG.warn("Cannot record operation '{}' in {}: {}", type, file, e.getMessage());
    }
  }
}
