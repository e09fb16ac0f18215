package org.gantry.launcher;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The options of {@code gantry gateway}, checked for form; each path is absolute. Empty means the
 * option was not given, so the configuration files (or the defaults) decide.
 */
record GatewayOptions(
    Optional<String> broker,
    Optional<String> thing,
    Optional<Path> dataDir,
    Optional<Path> configDir,
    boolean shell) {

  GatewayOptions {
    Objects.requireNonNull(broker, "broker");
    Objects.requireNonNull(thing, "thing");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(configDir, "configDir");
  }
}
