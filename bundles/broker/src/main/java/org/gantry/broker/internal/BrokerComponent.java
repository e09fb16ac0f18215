package org.gantry.broker.internal;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MQTT broker of the hub role: Moquette listening on {@code host:port}, started when
 * the configuration {@code org.gantry.broker} appears and stopped when it goes. The hub reaches it
 * as an ordinary MQTT client, exactly as it would reach Mosquitto.
 */
@Component(
    configurationPid = "org.gantry.broker",
    configurationPolicy = ConfigurationPolicy.REQUIRE,
    service = {})
@Designate(ocd = BrokerConfig.class)
public final class BrokerComponent {

  private static final Logger LOG = LoggerFactory.getLogger(BrokerComponent.class);

  private final BrokerSettings settings;
  private final Server server = new Server();

  /**
   * Checks the configuration and starts the broker.
   *
   * @throws IllegalArgumentException when a property is invalid (the message names it)
   * @throws UncheckedIOException when the broker cannot start, for example a port in use
   */
  @Activate
  public BrokerComponent(BrokerConfig config) {
    this(BrokerSettings.of(config));
  }

  BrokerComponent(BrokerSettings settings) {
    this.settings = settings;
    try {
      if (settings.dataDir() != null) {
        Files.createDirectories(settings.dataDir());
      }
      server.startServer(new MemoryConfig(settings.toMoquette()));
    } catch (IOException | RuntimeException e) {
      // Moquette leaves its scheduler and event loops running when the bind fails.
      stopQuietly();
      throw new UncheckedIOException(
          new IOException(
              "Could not start the MQTT broker on "
                  + settings.host()
                  + ":"
                  + settings.port()
                  + ": "
                  + e.getMessage(),
              e));
    }
    LOG.info(
        "MQTT broker listening on {}:{} (max message {} bytes, persistence {})",
        settings.host(),
        port(),
        settings.maxMessageBytes(),
        settings.dataDir() == null ? "off" : settings.dataDir());
  }

  /** The port the broker listens on (Moquette's own getter can answer 0 right after binding). */
  int port() {
    return settings.port();
  }

  @Deactivate
  void stop() {
    stopQuietly();
    LOG.info("MQTT broker on {}:{} stopped", settings.host(), settings.port());
  }

  private void stopQuietly() {
    try {
      server.stopServer();
    } catch (RuntimeException e) {
      LOG.warn("Stopping the MQTT broker failed: {}", e.toString());
    }
  }
}
