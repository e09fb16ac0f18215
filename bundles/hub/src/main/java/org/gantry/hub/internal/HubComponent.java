package org.gantry.hub.internal;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.util.List;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The hub as a DS component (PID {@code org.gantry.hub}): the store, the device API reached through
 * the broker at {@code mqtt.url}, and the management API on {@code api.host:api.port}.
 *
 * <p>One hub thread ({@link HubLoop}) owns the state: MQTT requests (queued from Paho's callback,
 * never handled on it) and management calls (submitted by the HTTP threads, which wait for the
 * answer) run there in batches, each batch stored with one fsync before anything of it is answered.
 *
 * <p>All hub times come from a {@link Clock}: the system UTC clock, or a {@code java.time.Clock}
 * service registered with {@code gantry.clock=hub} (tests drive rollouts and timeouts with it; the
 * component is restarted onto it when it appears, and back when it goes).
 */
@Component(
    configurationPid = "org.gantry.hub",
    configurationPolicy = ConfigurationPolicy.REQUIRE,
    service = {})
@Designate(ocd = HubConfig.class)
public final class HubComponent {
  /** The value of {@code gantry.clock} that names the hub's clock service. */
  public static final String CLOCK_TARGET = "(gantry.clock=hub)";

  private static final Logger LOG = LoggerFactory.getLogger(HubComponent.class);
  private static final int INBOX = 10_000;
  private static final long TICK_MILLIS = 200;

  private final HubSettings settings;
  private final HubCore core;
  private final DeviceApi device;
  private final HubLoop loop;
  private final MqttLink mqtt;
  private final ApiServer api;
  private final Artifacts artifacts;

  /** The ACL file writer; null without {@code acl.file}. */
  private final AclFile acl;

  /**
   * Checks the configuration, reads the store, starts the management API and starts connecting to
   * the broker.
   *
   * @param clock the clock service named {@code gantry.clock=hub}; null for the system UTC clock
   * @throws IllegalArgumentException for an invalid property (the message names it)
   * @throws UncheckedIOException when the store cannot be read or the API port cannot be bound
   */
  @Activate
  public HubComponent(
      HubConfig config,
      @Reference(
              name = "clock",
              cardinality = ReferenceCardinality.OPTIONAL,
              policyOption = ReferencePolicyOption.GREEDY,
              target = CLOCK_TARGET)
          Clock clock) {
    this(
        HubSettings.of(config),
        new Artifacts.Settings(
            config.artifacts_host(),
            config.artifacts_port(),
            config.artifacts_url(),
            config.artifacts_max_bytes()),
        AclSettings.of(
            config.acl_file(), config.acl_admin_principals(), config.acl_reload_command()),
        AuthSettings.of(config.api_auth_keys(), config.api_auth_tokens(), config.api_auth_file()),
        MqttTls.of(
            config.mqtt_url(),
            config.mqtt_ca_file(),
            config.mqtt_keystore_file(),
            config.mqtt_keystore_password()),
        clock == null ? Clock.systemUTC() : clock);
  }

  HubComponent(HubSettings settings, Clock clock) {
    this(settings, Artifacts.Settings.loopback(), clock);
  }

  HubComponent(HubSettings settings, Artifacts.Settings artifactSettings, Clock clock) {
    this(settings, artifactSettings, AclSettings.none(), AuthSettings.none(), clock);
  }

  HubComponent(
      HubSettings settings,
      Artifacts.Settings artifactSettings,
      AclSettings aclSettings,
      Clock clock) {
    this(settings, artifactSettings, aclSettings, AuthSettings.none(), clock);
  }

  HubComponent(
      HubSettings settings,
      Artifacts.Settings artifactSettings,
      AclSettings aclSettings,
      AuthSettings authSettings,
      Clock clock) {
    this(settings, artifactSettings, aclSettings, authSettings, MqttTls.none(), clock);
  }

  HubComponent(
      HubSettings settings,
      Artifacts.Settings artifactSettings,
      AclSettings aclSettings,
      AuthSettings authSettings,
      MqttTls tls,
      Clock clock) {
    authSettings.checkBinding(settings.apiHost());
    this.settings = settings;
    MqttLink link = null;
    ApiServer server = null;
    HubLoop hubLoop = null;
    HubStore store = null;
    Artifacts files = null;
    AclFile aclFile = null;
    try {
      files = Artifacts.start(settings.dataDir(), artifactSettings, clock);
      store = new HubStore(settings.dataDir());
      Artifacts documents = files;
      this.core = new HubCore(store, store.load(), clock::millis, documents::forDevice);
      if (aclSettings.file() != null) {
        aclFile =
            new AclFile(
                aclSettings.file(),
                aclSettings.admins(),
                aclSettings.reloadCommand(),
                AclSettings.RELOAD_TIMEOUT_MILLIS);
        AclFile acl = aclFile;
        acl.write(core.state().attachments());
        core.onAttachments(acl::write);
      }
      this.device = new DeviceApi(core);
      ControlPlane control = new ControlPlane(core, settings.arns(), files);
      link =
          new MqttLink(
              settings.mqttUrl(), settings.clientId(), tls.sockets(), this::inbound, this::catchUp);
      hubLoop = new HubLoop(core, link::publish, INBOX, TICK_MILLIS);
      server =
          new ApiServer(
              settings.apiHost(),
              settings.apiPort(),
              control,
              hubLoop,
              authSettings.enabled()
                  ? new ApiAuth(authSettings, settings.arns().region(), clock)
                  : null);
      server.mount("/artifacts/", files.uploadHandler());
      this.loop = hubLoop;
      hubLoop.start();
      server.start();
      link.start();
    } catch (IOException | MqttException | RuntimeException e) {
      if (server != null) {
        server.stop();
      }
      if (hubLoop != null) {
        hubLoop.stop(5_000);
      }
      if (link != null) {
        link.close();
      }
      if (store != null) {
        store.close();
      }
      if (files != null) {
        files.close();
      }
      if (aclFile != null) {
        aclFile.close();
      }
      if (e instanceof RuntimeException r) {
        throw r;
      }
      throw new UncheckedIOException(
          new IOException("The hub could not start: " + e.getMessage(), e));
    }
    this.mqtt = link;
    this.api = server;
    this.artifacts = files;
    this.acl = aclFile;
    LOG.info(
        "Hub started: broker {}, management API http://{}:{}, store {}, clock {}",
        settings.mqttUrl(),
        settings.apiHost(),
        api.port(),
        settings.dataDir(),
        clock);
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
    if (!loop.offer(
        out -> {
          out.addAll(device.handle(topic, payload));
          return null;
        },
        e -> device.notStored(topic, payload, e.getMessage()))) {
      LOG.warn("The hub is {} requests behind; dropped one on {}", INBOX, topic);
    }
  }

  /**
   * After every (re)subscription, announce each thing's queue head again: notifications sent while
   * the hub was away from the broker were lost, and a gateway that stayed connected would otherwise
   * only find its next job when it polls.
   */
  private void catchUp() {
    boolean queued =
        loop.offer(
            out -> {
              HubState s = core.state();
              List<String> things = s.thingsWithExecutions();
              for (String t : things) {
                if (s.head(t) != null) {
                  out.add(core.notifyNextNow(t));
                }
              }
              return null;
            },
            null);
    if (!queued) {
      LOG.warn("The hub is busy; queue heads are not announced after this connection");
    }
  }

  int apiPort() {
    return api.port();
  }

  int artifactsPort() {
    return artifacts.port();
  }

  boolean mqttConnected() {
    return mqtt.isConnected();
  }

  @Deactivate
  void stop() {
    api.stop();
    loop.stop(5_000);
    mqtt.close();
    artifacts.close();
    if (acl != null) {
      acl.close();
    }
    core.store().close();
    LOG.info("Hub stopped (store {})", settings.dataDir());
  }
}
