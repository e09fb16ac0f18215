package org.gantry.broker.internal;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthenticator;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.security.PermitAllAuthorizatorPolicy;
import io.netty.handler.ssl.SslContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.UnaryOperator;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded MQTT broker of the hub role: Moquette, started when the configuration {@code
 * org.gantry.broker} appears and stopped when it goes. The hub reaches it as an ordinary MQTT
 * client, exactly as it would reach Mosquitto.
 *
 * <p>Without TLS and ACL, Moquette itself listens on {@code host:port}. With either, clients reach
 * the {@link FrontEnd} (plain and/or mutual-TLS listeners), which fixes each client's principal in
 * its CONNECT and relays it to Moquette on an internal loopback port; Moquette then authorises with
 * the ACL file ({@link AclAuthorizator}).
 */
@Component(
    configurationPid = "org.gantry.broker",
    configurationPolicy = ConfigurationPolicy.REQUIRE,
    service = {})
@Designate(ocd = BrokerConfig.class)
public final class BrokerComponent {

  private static final Logger LOG = LoggerFactory.getLogger(BrokerComponent.class);

  /**
   * Attempts at finding a free internal port (another process may take it between look and bind).
   */
  private static final int INTERNAL_PORT_ATTEMPTS = 3;

  private final BrokerSettings settings;
  private final UnaryOperator<IAuthorizatorPolicy> policies;
  private final ExecutorService restarter;
  private final Object lifecycle = new Object();
  // Replaced by a restart; guarded by lifecycle.
  private Server server = new Server();
  private Start lastStart;
  private boolean stopped;
  private int restartCount;
  private final AclFile acl;
  private final FrontEnd frontEnd;
  private final int internalPort;

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
    this(settings, UnaryOperator.identity());
  }

  /**
   * @param policies wraps the authorisation policy Moquette is given (tests make it fail)
   */
  BrokerComponent(BrokerSettings settings, UnaryOperator<IAuthorizatorPolicy> policies) {
    this.settings = settings;
    this.policies = policies;
    this.restarter =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "gantry-broker-restart");
              t.setDaemon(true);
              return t;
            });
    if (!settings.guarded()) {
      this.acl = null;
      this.frontEnd = null;
      this.internalPort = 0;
      start(settings.toMoquette(), null, null, settings.host() + ":" + settings.port());
      LOG.info(
          "MQTT broker listening on {}:{} (max message {} bytes, persistence {}, no TLS, no ACL)",
          settings.host(),
          settings.port(),
          settings.maxMessageBytes(),
          persistence());
      return;
    }
    SslContext tls = settings.tls() == null ? null : ServerTls.context(settings.tls());
    Principals principals = new Principals();
    this.acl = settings.aclFile() == null ? null : new AclFile(settings.aclFile());
    IAuthorizatorPolicy policy =
        acl == null ? new PermitAllAuthorizatorPolicy() : new AclAuthorizator(acl::rules);
    this.internalPort = startInternal(principals, policy);
    List<FrontEnd.Listener> listeners = new ArrayList<>();
    if (settings.port() != 0) {
      listeners.add(
          new FrontEnd.Listener(
              "plain", settings.host(), settings.port(), null, settings.plainPrincipal()));
    }
    if (tls != null) {
      listeners.add(
          new FrontEnd.Listener("TLS", settings.tls().host(), settings.tls().port(), tls, ""));
    }
    try {
      this.frontEnd =
          new FrontEnd(
              listeners,
              new InetSocketAddress(InetAddress.getLoopbackAddress(), internalPort),
              principals,
              acl == null ? null : acl::rules,
              settings.maxMessageBytes());
    } catch (RuntimeException e) {
      if (acl != null) {
        acl.close();
      }
      stopQuietly();
      restarter.shutdownNow();
      throw e;
    }
    LOG.info(
        "MQTT broker listening on {}{} (max message {} bytes, persistence {}, ACL {}, plain"
            + " principal '{}')",
        settings.port() == 0 ? "" : "plain " + settings.host() + ":" + settings.port() + " ",
        settings.tls() == null ? "" : "TLS " + settings.tls().host() + ":" + settings.tls().port(),
        settings.maxMessageBytes(),
        persistence(),
        settings.aclFile() == null ? "off" : settings.aclFile(),
        settings.plainPrincipal());
  }

  private int startInternal(Principals principals, IAuthorizatorPolicy policy) {
    UncheckedIOException last = null;
    for (int attempt = 0; attempt < INTERNAL_PORT_ATTEMPTS; attempt++) {
      int port = freeLoopbackPort();
      try {
        start(
            settings.toMoquetteBehindFrontEnd(port),
            new SecretAuthenticator(principals),
            policy,
            "internal 127.0.0.1:" + port);
        return port;
      } catch (UncheckedIOException e) {
        last = e;
      }
    }
    if (acl != null) {
      acl.close();
    }
    restarter.shutdownNow();
    throw last;
  }

  private static int freeLoopbackPort() {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(
          new IOException("No free loopback port for the broker's internal listener", e));
    }
  }

  /** What Moquette was started with, to start it again the same way. */
  private record Start(
      Properties moquette,
      IAuthenticator authenticator,
      IAuthorizatorPolicy policy,
      String address) {}

  private void start(
      Properties moquette,
      IAuthenticator authenticator,
      IAuthorizatorPolicy policy,
      String address) {
    synchronized (lifecycle) {
      Start start =
          new Start(
              moquette,
              authenticator,
              policies.apply(policy == null ? new PermitAllAuthorizatorPolicy() : policy),
              address);
      startLocked(start);
      lastStart = start;
    }
  }

  private void startLocked(Start start) {
    try {
      if (settings.dataDir() != null) {
        Files.createDirectories(settings.dataDir());
      }
      server.startServer(
          new MemoryConfig(start.moquette()),
          List.of(new SessionLoopWatchdog(this::sessionLoopDied)),
          null,
          start.authenticator(),
          start.policy());
    } catch (IOException | RuntimeException e) {
      // Moquette leaves its scheduler and event loops running when the bind fails.
      stopQuietly();
      throw new UncheckedIOException(
          new IOException(
              "Could not start the MQTT broker on " + start.address() + ": " + e.getMessage(), e));
    }
  }

  /**
   * A Moquette session loop died (Moquette's thread): the clients it served are locked out until
   * Moquette starts again, so restart it now, on its own thread. Connected clients lose their
   * connection and reconnect; with persistence off, messages queued for offline clients are lost
   * (devices ask again after their request timeout, the hub announces queued work again after it
   * subscribes).
   */
  private void sessionLoopDied(Throwable error) {
    LOG.error(
        "An MQTT broker session loop failed and stopped ({}); restarting the broker so that the"
            + " clients it served can connect again",
        error.toString(),
        error);
    try {
      restarter.execute(this::restart);
    } catch (RejectedExecutionException e) {
      LOG.debug("Broker stopping; no restart");
    }
  }

  private void restart() {
    synchronized (lifecycle) {
      if (stopped) {
        return;
      }
      stopQuietly();
      server = new Server();
      try {
        startLocked(lastStart);
        restartCount++;
        LOG.warn(
            "MQTT broker restarted on {} after a session loop failure ({} since activation)",
            lastStart.address(),
            restartCount);
      } catch (UncheckedIOException e) {
        LOG.error(
            "The MQTT broker could not start again after a session loop failure: {}; it stays down"
                + " until its configuration changes or the hub restarts",
            e.getMessage());
      }
    }
  }

  /** How often Moquette was restarted since activation (for tests). */
  int restarts() {
    synchronized (lifecycle) {
      return restartCount;
    }
  }

  private Object persistence() {
    return settings.dataDir() == null ? "off" : settings.dataDir();
  }

  /** The plain port (Moquette's own getter can answer 0 right after binding). */
  int port() {
    return settings.port();
  }

  /** Moquette's own port behind the front end, or 0 when there is no front end. */
  int internalPort() {
    return internalPort;
  }

  /** The ACL file, or null when the ACL is off (for tests that wait for a change to be read). */
  AclFile acl() {
    return acl;
  }

  @Deactivate
  void stop() {
    synchronized (lifecycle) {
      stopped = true;
    }
    restarter.shutdownNow();
    if (frontEnd != null) {
      frontEnd.close();
    }
    if (acl != null) {
      acl.close();
    }
    stopQuietly();
    LOG.info("MQTT broker stopped");
  }

  private void stopQuietly() {
    synchronized (lifecycle) {
      try {
        server.stopServer();
      } catch (RuntimeException e) {
        LOG.warn("Stopping the MQTT broker failed: {}", e.toString());
      }
    }
  }
}
