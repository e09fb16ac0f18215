package org.gantry.hub.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub as a DS component (PID {@code org.gantry.hub}): the store, the device API reached through
 * the broker at {@code mqtt.url}, and the management API on {@code api.host:api.port}.
 *
 * <p>One hub thread owns the state: MQTT requests (queued from Paho's callback, never handled on
 * it) and management calls (submitted by the HTTP threads, which wait for the answer) run there one
 * at a time, each stored to disk before it is answered.
 */
@Component(
    configurationPid = "org.gantry.hub",
    configurationPolicy = ConfigurationPolicy.REQUIRE,
    service = {})
@Designate(ocd = HubConfig.class)
public final class HubComponent {
  private static final Logger LOG = LoggerFactory.getLogger(HubComponent.class);
  private static final int INBOX = 10_000;

  private final HubSettings settings;
  private final HubCore core;
  private final DeviceApi device;
  private final ThreadPoolExecutor hubThread;
  private final MqttLink mqtt;
  private final ApiServer api;

  /**
   * Checks the configuration, reads the store, starts the management API and starts connecting to
   * the broker.
   *
   * @throws IllegalArgumentException for an invalid property (the message names it)
   * @throws UncheckedIOException when the store cannot be read or the API port cannot be bound
   */
  @Activate
  public HubComponent(HubConfig config) {
    this(HubSettings.of(config), System::currentTimeMillis);
  }

  HubComponent(HubSettings settings, LongSupplier clock) {
    this.settings = settings;
    this.hubThread =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(INBOX),
            r -> {
              Thread t = new Thread(r, "gantry-hub");
              t.setDaemon(true);
              return t;
            });
    MqttLink link = null;
    ApiServer server = null;
    try {
      HubStore store = new HubStore(settings.dataDir());
      this.core = new HubCore(store, store.load(), clock);
      this.device = new DeviceApi(core);
      ControlPlane control = new ControlPlane(core, settings.arns());
      link = new MqttLink(settings.mqttUrl(), settings.clientId(), this::inbound, this::catchUp);
      MqttLink publisher = link;
      server =
          new ApiServer(
              settings.apiHost(), settings.apiPort(), control, hubThread, publisher::publish);
      server.start();
      link.start();
    } catch (IOException | MqttException | RuntimeException e) {
      if (server != null) {
        server.stop();
      }
      if (link != null) {
        link.close();
      }
      hubThread.shutdownNow();
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new UncheckedIOException(
          new IOException("The hub could not start: " + e.getMessage(), e));
    }
    this.mqtt = link;
    this.api = server;
    LOG.info(
        "Hub started: broker {}, management API http://{}:{}, store {}",
        settings.mqttUrl(),
        settings.apiHost(),
        api.port(),
        settings.dataDir());
  }

  /** On Paho's thread: queue the message for the hub thread, never wait. */
  private void inbound(String topic, byte[] payload) {
    // The hub hears its own answers and notifications; drop them before they cost a queue slot.
    if (topic.endsWith("/accepted")
        || topic.endsWith("/rejected")
        || topic.endsWith("/notify")
        || topic.endsWith("/notify-next")) {
      return;
    }
    try {
      hubThread.execute(() -> mqtt.publish(device.handle(topic, payload)));
    } catch (RejectedExecutionException e) {
      LOG.warn("The hub is {} requests behind; dropped one on {}", INBOX, topic);
    }
  }

  /**
   * After every (re)subscription, announce each thing's queue head again: notifications sent while
   * the hub was away from the broker were lost, and a gateway that stayed connected would otherwise
   * only find its next job when it polls.
   */
  private void catchUp() {
    try {
      hubThread.execute(
          () -> {
            HubState s = core.state();
            List<Outbound> out =
                s.thingsWithExecutions().stream()
                    .filter(t -> s.head(t) != null)
                    .map(core::notifyNextNow)
                    .toList();
            mqtt.publish(out);
          });
    } catch (RejectedExecutionException e) {
      LOG.warn("The hub is busy; queue heads are not announced after this connection");
    }
  }

  int apiPort() {
    return api.port();
  }

  boolean mqttConnected() {
    return mqtt.isConnected();
  }

  @Deactivate
  void stop() {
    api.stop();
    hubThread.shutdown();
    try {
      if (!hubThread.awaitTermination(5, TimeUnit.SECONDS)) {
        hubThread.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      hubThread.shutdownNow();
    }
    mqtt.close();
    LOG.info("Hub stopped (store {})", settings.dataDir());
  }
}
