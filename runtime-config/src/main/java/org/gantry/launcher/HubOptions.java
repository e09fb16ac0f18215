package org.gantry.launcher;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * The options of {@code gantry hub}, checked for form; each path is absolute. Empty means the
 * option was not given, so the configuration files (or the defaults) decide.
 *
 * @param broker an external broker, {@code tcp://HOST:PORT}: the embedded one is then not started
 */
record HubOptions(
    Optional<Integer> mqttPort,
    Optional<Integer> apiPort,
    Optional<String> broker,
    Optional<Path> dataDir,
    Optional<Path> configDir) {

  HubOptions {
    Objects.requireNonNull(mqttPort, "mqttPort");
    Objects.requireNonNull(apiPort, "apiPort");
    Objects.requireNonNull(broker, "broker");
    Objects.requireNonNull(dataDir, "dataDir");
    Objects.requireNonNull(configDir, "configDir");
  }
}
