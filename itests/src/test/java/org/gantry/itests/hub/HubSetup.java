package org.gantry.itests.hub;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.UUID;
import org.gantry.itests.support.GatewayFramework;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Configures the hub role inside the test framework through ConfigurationAdmin, as the hub's {@code
 * .cfg} files would: the embedded broker (PID {@code org.gantry.broker}) on the port {@link
 * HubFramework} chose, in memory, and the hub (PID {@code org.gantry.hub}) connected to it, its
 * management API on the other port and its store in a folder of its own under {@code target/}. Runs
 * inside the framework.
 */
public final class HubSetup {

  /** PID of the embedded broker. */
  public static final String BROKER_PID = "org.gantry.broker";

  /** PID of the hub. */
  public static final String HUB_PID = "org.gantry.hub";

  /** Symbolic name of the hub's bundle. */
  public static final String HUB_BUNDLE = "org.gantry.hub";

  private final BundleContext context;

  /**
   * @param context the test's bundle context, for the ports the framework was given
   */
  public HubSetup(BundleContext context) {
    this.context = context;
  }

  /**
   * Configures the broker and the hub, unless an earlier test of this framework did: the hub keeps
   * its store for the framework's lifetime, as a real hub keeps it across restarts.
   *
   * @param admin the framework's ConfigurationAdmin
   * @return the hub's store folder
   * @throws IOException when the folder cannot be created or ConfigurationAdmin cannot store
   */
  public Path configureOnce(ConfigurationAdmin admin) throws IOException {
    Configuration hub = admin.getConfiguration(HUB_PID, "?");
    Dictionary<String, Object> existing = hub.getProperties();
    if (existing != null) {
      return Path.of((String) existing.get("data.dir"));
    }
    Dictionary<String, Object> broker = new Hashtable<>();
    broker.put("host", "127.0.0.1");
    broker.put("port", brokerPort());
    broker.put("max.message.bytes", 131_072);
    // "?" binds the configuration to whichever bundle registers the PID: the Gantry bundles.
    admin.getConfiguration(BROKER_PID, "?").update(broker);

    // A fresh store per framework: target/ outlives a run, and jobs of an earlier run would clash.
    Path data =
        Files.createDirectories(
            Path.of(required(GatewayFramework.WORK_DIR))
                .resolve("hub")
                .resolve(UUID.randomUUID().toString()));
    Dictionary<String, Object> properties = new Hashtable<>();
    properties.put("mqtt.url", "tcp://127.0.0.1:" + brokerPort());
    properties.put("client.id", "itest-hub");
    properties.put("api.host", "127.0.0.1");
    properties.put("api.port", apiPort());
    properties.put("data.dir", data.toString());
    hub.update(properties);
    return data;
  }

  /**
   * The management API's base address.
   *
   * @return {@code http://127.0.0.1:PORT}
   */
  public URI apiBase() {
    return URI.create("http://127.0.0.1:" + apiPort());
  }

  /**
   * The embedded broker's address, as the hub and the gateway reach it.
   *
   * @return {@code tcp://127.0.0.1:PORT}
   */
  public String brokerUrl() {
    return "tcp://127.0.0.1:" + brokerPort();
  }

  /**
   * The hub's bundle.
   *
   * @return the bundle
   * @throws AssertionError when it is not installed
   */
  public Bundle hubBundle() {
    for (Bundle b : context.getBundles()) {
      if (HUB_BUNDLE.equals(b.getSymbolicName())) {
        return b;
      }
    }
    throw new AssertionError("the bundle " + HUB_BUNDLE + " is not installed");
  }

  private int brokerPort() {
    return Integer.parseInt(required(HubFramework.BROKER_PORT));
  }

  private int apiPort() {
    return Integer.parseInt(required(HubFramework.API_PORT));
  }

  private String required(String name) {
    String value = context.getProperty(name);
    if (value == null || value.isBlank()) {
      throw new IllegalStateException(
          "Property " + name + " is not set: HubFramework.options sets it for the framework");
    }
    return value;
  }
}
