package org.gantry.itests.hub;

import static org.ops4j.pax.exam.CoreOptions.frameworkProperty;
import static org.ops4j.pax.exam.CoreOptions.systemPackages;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import org.gantry.itests.support.GatewayFramework;
import org.ops4j.pax.exam.Option;

/**
 * The Pax Exam configuration of a hub and a gateway in one framework (driver side, called from a
 * {@code @Configuration} method): the features as {@link GatewayFramework} derives them, the hub's
 * embedded broker and management API on free ports of 127.0.0.1, and the gateway pointed at that
 * broker. The framework side reads the ports with {@link HubSetup}.
 */
public final class HubFramework {

  /** Framework property: the port of the hub's embedded broker. */
  public static final String BROKER_PORT = "gantry.itest.hub.broker.port";

  /** Framework property: the port of the hub's management API. */
  public static final String API_PORT = "gantry.itest.hub.api.port";

  private HubFramework() {}

  /**
   * The options for a framework with the given features (which must include {@code gantry-hub}).
   *
   * @param installed the features to install
   * @return the options
   */
  public static Option[] options(List<String> installed) {
    if (!installed.contains("gantry-hub")) {
      throw new IllegalArgumentException("a hub test needs the feature gantry-hub: " + installed);
    }
    int brokerPort = freePort();
    int apiPort = freePort();
    while (apiPort == brokerPort) {
      apiPort = freePort();
    }
    return GatewayFramework.options(
        installed,
        List.of(),
        "tcp://127.0.0.1:" + brokerPort,
        // The hub's management API is the JDK's HTTP server, and netty (the embedded broker) looks
        // for sun.misc.Unsafe: Felix exports neither from the system bundle unless told. Added as
        // system packages, not as a framework property, which would replace Pax Exam's own.
        systemPackages("com.sun.net.httpserver", "sun.misc"),
        frameworkProperty(BROKER_PORT).value(Integer.toString(brokerPort)),
        frameworkProperty(API_PORT).value(Integer.toString(apiPort)));
  }

  /**
   * A port of 127.0.0.1 that was free a moment ago; the framework binds it within seconds, and a
   * clash fails the test with the address in the component's error rather than passing wrongly.
   */
  private static int freePort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException("No free port on 127.0.0.1", e);
    }
  }
}
