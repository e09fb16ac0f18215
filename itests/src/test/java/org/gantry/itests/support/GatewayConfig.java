package org.gantry.itests.support;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Configures the gateway inside the test framework through ConfigurationAdmin, as an operator's
 * {@code .cfg} files would: PIDs {@code org.gantry.transport.mqtt} and {@code org.gantry.engine}.
 * Runs inside the framework (no driver-side types here).
 */
public final class GatewayConfig {

  /** PID of the MQTT transport. */
  public static final String TRANSPORT_PID = "org.gantry.transport.mqtt";

  /** PID of the engine. */
  public static final String ENGINE_PID = "org.gantry.engine";

  private GatewayConfig() {}

  /**
   * The broker the driver side started.
   *
   * @return {@code tcp://127.0.0.1:PORT}
   */
  public static String brokerUrl() {
    return required(GatewayFramework.BROKER_URL);
  }

  /**
   * A fresh data folder for one thing, under {@code target/}.
   *
   * @param thing the thing name
   * @return the folder, created
   * @throws IOException when it cannot be created
   */
  public static Path dataDir(String thing) throws IOException {
    return Files.createDirectories(
        Path.of(required(GatewayFramework.WORK_DIR)).resolve("data").resolve(thing));
  }

  /**
   * Points the gateway at the test broker as {@code thing}: the transport connects with the thing
   * name as its client id and the engine serves that thing. Replaces the previous configuration, so
   * each test can use a thing of its own.
   *
   * @param admin the framework's ConfigurationAdmin
   * @param thing the thing name
   * @throws IOException when ConfigurationAdmin cannot store the configuration
   */
  public static void configure(ConfigurationAdmin admin, String thing) throws IOException {
    Dictionary<String, Object> transport = new Hashtable<>();
    transport.put("broker.url", brokerUrl());
    transport.put("client.id", thing);
    // "?" binds the configuration to whichever bundle registers the PID: the Gantry bundles.
    update(admin.getConfiguration(TRANSPORT_PID, "?"), transport);

    Dictionary<String, Object> engine = new Hashtable<>();
    engine.put("thing.name", thing);
    engine.put("data.dir", dataDir(thing).toString());
    engine.put("request.timeout.seconds", 5);
    // Long enough that a job is only picked up in time through notify-next, never by polling.
    engine.put("poll.interval.seconds", 300);
    update(admin.getConfiguration(ENGINE_PID, "?"), engine);
  }

  private static void update(Configuration c, Dictionary<String, Object> properties)
      throws IOException {
    c.update(properties);
  }

  private static String required(String name) {
    String value = System.getProperty(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "System property " + name + " is not set: the Pax Exam configuration sets it");
    }
    return value;
  }
}
