package org.gantry.launcher;

import java.nio.file.Path;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The options of {@code gantry gateway}, checked for form; each path is absolute. Empty means the
 * option was not given, so the configuration files (or the defaults) decide. {@code tls} maps
 * transport configuration keys ({@code tls.ca.file}, ...) to the values the TLS options gave.
 */
record GatewayOptions(
    Optional<String> broker,
    Optional<String> thing,
    Optional<Path> dataDir,
    Optional<Path> configDir,
    boolean shell,
    Map<String, String> tls) {

  GatewayOptions {
    Objects.requireNonNull(broker, "broker");
    Objects.requireNonNull(thing, "thing");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(configDir, "configDir");
    tls = Map.copyOf(tls);
  }
}
