package org.gantry.transport.mqtt.internal;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import javax.net.SocketFactory;
import javax.net.ssl.TrustManager;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.api.transport.ConnectionListener;
import org.gantry.api.transport.ConnectionState;
import org.gantry.api.transport.ConnectionStatus;
import org.gantry.api.transport.Delivery;
import org.gantry.api.transport.MessageListener;
import org.gantry.api.transport.MqttTransport;
import org.gantry.api.transport.Subscription;
import org.gantry.api.transport.TransportException;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.Designate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's MQTT connection, on Eclipse Paho's {@link MqttAsyncClient}.
 *
 * <p>Threading model: Paho's threads only hand events over; one "delivery" thread owned by this
 * component runs the connection state machine (connect, re-subscribe, backoff), calls the message
 * listeners, and completes every publish and subscribe stage. Fields marked "delivery thread" are
 * touched by that thread only, which is what makes the state machine safe without locks. The one
 * exception is a subscription that asked for {@link Delivery#IMMEDIATE}: its listener is called on
 * Paho's callback thread, which reads the (copy-on-write) list of subscriptions. Publishes go
 * through the {@link Outbox}, which keeps their order under back-pressure.
 *
 * <p>Each connection attempt gets a fresh Paho client. Paho reports a lost connection, the failure
 * of its outstanding tokens and the end of a connect on different threads in no guaranteed order;
 * tying every callback to the client it came from lets a late event of an old connection be
 * recognised and ignored instead of tearing down the new one.
 */
@Component(
    service = MqttTransport.class,
    configurationPid = PahoMqttTransport.PID,
    configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = MqttTransportConfig.class)
public final class PahoMqttTransport implements MqttTransport {

  /** The configuration PID. */
  public static final String PID = "org.gantry.transport.mqtt";

  /** Every thread this component starts has a name with this prefix. */
  static final String THREAD_PREFIX = "gantry-mqtt-";

  private static final Logger LOG = LoggerFactory.getLogger(PahoMqttTransport.class);

  /** How long a deactivation lets in-flight work finish before it drops the connection. */
  private static final long QUIESCE_MILLIS = 2_000;

  /**
   * Paho's connection timeout bounds the TCP connect only; a broker that accepts the socket and
   * never sends CONNACK is caught by our own timer, this much later.
   */
  private static final long CONNACK_GRACE_MILLIS = 1_000;

  /** How often to look whether a connecting Paho client can be dropped without harm. */
  private static final long FORCE_POLL_MILLIS = 50;

  /** The SUBACK return code of a refused subscription (MQTT 3.1.1 §3.9.3). */
  private static final int SUBACK_FAILURE = 0x80;

  private final TransportSettings settings;
  private final Backoff backoff;
  private final ScheduledThreadPoolExecutor delivery;
  private final List<ConnectionListener> connectionListeners = new CopyOnWriteArrayList<>();

  private final Outbox outbox;

  /** Null when no data folder is known: durable publishing then fails with a clear reason. */
  private final DurableOutbox durable;

  private final String durableUnavailable;
  private final TrustManager[] trust;
  private final Backoff duplicateBackoff;

  /** The client identity of every new connection; changed only by an identity swap. */
  private volatile Tls.Identity identity;

  // status, written on the delivery thread, read by status()
  private volatile Instant stateSince = Instant.now();
  private volatile String lastError;
  private volatile long reconnectCount;
  private volatile boolean duplicateSuspected;

  /** Guards changes of {@link #state} against {@link #closed}. */
  private final Object stateLock = new Object();

  private volatile ConnectionState state = ConnectionState.DISCONNECTED;

  /** Guards the creation of connections against {@link #deactivate()}. */
  private final Object lifecycleLock = new Object();

  private volatile boolean closed;
  private volatile Connection current;

  // changed on the delivery thread only; read by Paho's callback thread for IMMEDIATE delivery
  private final List<SubscriptionImpl> subscriptions = new CopyOnWriteArrayList<>();
  private long attempts;
  private int failedAttempts;
  private boolean everConnected;
  private boolean listenersToldConnected;
  private boolean outageReported;
  private ScheduledFuture<?> attemptTimer;
  private ScheduledFuture<?> reconnectTimer;
  private long connectedAtNanos;
  private int quickLosses;
  private Swap swap;

  /**
   * Validates the configuration, loads the TLS material, opens the durable outbox and starts
   * connecting in the background.
   *
   * @param config the configuration
   * @param context for the framework property {@code gantry.data.dir}, the default data folder
   * @throws IllegalArgumentException naming the property that is missing or invalid
   */
  @Activate
  public PahoMqttTransport(MqttTransportConfig config, BundleContext context) {
    this(config, context::getProperty);
  }

  /** Without a framework: {@code data.dir} must be configured for durable publishing. */
  PahoMqttTransport(MqttTransportConfig config) {
    this(config, key -> null);
  }

  PahoMqttTransport(MqttTransportConfig config, UnaryOperator<String> frameworkProperty) {
    this.settings = TransportSettings.from(config);
    if (settings.tls()) {
      this.trust = Tls.trust("tls.ca.file", settings.tlsCaFile());
      if (settings.tlsCertFile() != null) {
        this.identity =
            Tls.pem("tls.cert.file", settings.tlsCertFile(), "tls.key.file", settings.tlsKeyFile());
      } else if (settings.tlsPkcs12File() != null) {
        this.identity =
            Tls.pkcs12("tls.pkcs12.file", settings.tlsPkcs12File(), settings.tlsPkcs12Password());
      }
      if (identity != null && identity.invalidNow() != null) {
        // Connecting will fail; say why now, the broker will only say "bad certificate".
        LOG.warn("MQTT transport {}: {}", settings.clientId(), identity.invalidNow());
      }
    } else {
      this.trust = null;
    }
    this.backoff =
        new Backoff(
            settings.reconnectMinMillis(),
            settings.reconnectMaxMillis(),
            () -> ThreadLocalRandom.current().nextDouble());
    long hard = settings.duplicateBackoffMillis();
    this.duplicateBackoff =
        new Backoff(
            hard,
            Math.min(TransportSettings.MAX_RECONNECT_MILLIS, 2 * hard),
            () -> ThreadLocalRandom.current().nextDouble());
    this.outbox = new Outbox(settings.maxInflight(), this::runOnDeliveryThread);
    this.delivery =
        new ScheduledThreadPoolExecutor(1, threadFactory("delivery-" + settings.clientId()));
    // A pending reconnect timer must neither hold memory after a cancel nor delay a shutdown.
    delivery.setRemoveOnCancelPolicy(true);
    delivery.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    Path dataDir = dataDir(settings, frameworkProperty);
    if (dataDir == null) {
      this.durable = null;
      this.durableUnavailable =
          "no data folder: set data.dir in configuration "
              + PID
              + " or the framework property "
              + DATA_DIR_PROPERTY;
    } else {
      Path folder = dataDir.resolve("outbox-" + fileSafe(settings.clientId()));
      try {
        this.durable =
            new DurableOutbox(
                folder,
                settings.durableMaxBytes(),
                settings.clientId(),
                this::runOnDeliveryThread,
                (task, delay) -> schedule(task, delay),
                THREAD_PREFIX + "outbox-" + settings.clientId());
      } catch (IOException | RuntimeException e) {
        delivery.shutdownNow();
        throw new IllegalArgumentException(
            "data.dir: the durable outbox folder " + folder + " cannot be used: " + e, e);
      }
      this.durableUnavailable = null;
    }
    LOG.debug("MQTT transport starting: {}", settings);
    runOnDeliveryThread(this::attemptConnect);
  }

  /** The framework property whose value, plus "/transport", is the default data.dir. */
  static final String DATA_DIR_PROPERTY = "gantry.data.dir";

  private static Path dataDir(TransportSettings settings, UnaryOperator<String> property) {
    if (settings.dataDir().isPresent()) {
      return settings.dataDir().get();
    }
    String base = property.apply(DATA_DIR_PROPERTY);
    if (base == null || base.isBlank()) {
      return null;
    }
    try {
      return Path.of(base.strip()).resolve("transport");
    } catch (java.nio.file.InvalidPathException e) {
      throw new IllegalArgumentException(
          "data.dir is not set and the framework property "
              + DATA_DIR_PROPERTY
              + " '"
              + base
              + "' is not a valid path",
          e);
    }
  }

  /** A client id as a file name: anything but letters, digits, '-', '_' and '.' is escaped. */
  static String fileSafe(String clientId) {
    StringBuilder name = new StringBuilder();
    clientId
        .codePoints()
        .forEach(
            c -> {
              if (c < 128 && (Character.isLetterOrDigit(c) || c == '-' || c == '_')) {
                name.append((char) c);
              } else {
                name.append('%').append(Integer.toHexString(c)).append(';');
              }
            });
    return name.toString();
  }

  static MqttConnectOptions connectOptions(
      TransportSettings settings, SocketFactory socketFactory) {
    MqttConnectOptions options = new MqttConnectOptions();
    options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    // A persistent session keeps our subscriptions and the QoS 1 messages sent to us while we
    // were away; what we publish durably is kept by our own outbox (README decision record).
    options.setCleanSession(settings.cleanSession());
    options.setHttpsHostnameVerificationEnabled(true);
    // Our own loop reconnects: Paho's would report the connection up before the subscriptions are.
    options.setAutomaticReconnect(false);
    options.setKeepAliveInterval(settings.keepAliveSeconds());
    options.setConnectionTimeout(settings.connectTimeoutSeconds());
    // Paho counts a QoS 0 publish as in flight until just after it has told us it was sent, so
    // one more slot than we have permits keeps it from ever refusing with 32202.
    options.setMaxInflight(settings.maxInflight() + 1);
    options.setSocketFactory(socketFactory);
    settings.username().ifPresent(options::setUserName);
    settings.password().ifPresent(options::setPassword);
    return options;
  }

  @Override
  public String clientId() {
    return settings.clientId();
  }

  @Override
  public ConnectionState state() {
    return state;
  }

  @Override
  public void addConnectionListener(ConnectionListener listener) {
    connectionListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  @Override
  public void removeConnectionListener(ConnectionListener listener) {
    connectionListeners.remove(listener);
  }

  /**
   * {@inheritDoc}
   *
   * <p>The stage completes on the transport's delivery thread: never block on it from a listener.
   *
   * @throws IllegalArgumentException when the topic is not a valid MQTT topic name or qos is not 0
   *     or 1
   */
  @Override
  public CompletionStage<Void> publish(String topic, byte[] payload, int qos) {
    Topics.checkTopicName(topic);
    Objects.requireNonNull(payload, "payload");
    checkQos(qos);
    return outbox
        .publish(topic, payload, qos, () -> notConnected("publish to '" + topic + "'"))
        .minimalCompletionStage();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Several subscriptions to the same filter are allowed; each listener gets each message once.
   * The stage completes on the transport's delivery thread.
   *
   * @throws IllegalArgumentException when the filter is not a valid MQTT topic filter or qos is not
   *     0 or 1
   */
  @Override
  public CompletionStage<Subscription> subscribe(String filter, int qos, MessageListener listener) {
    return subscribe(filter, qos, listener, Delivery.TRANSPORT_THREAD);
  }

  /**
   * {@inheritDoc}
   *
   * <p>With {@link Delivery#IMMEDIATE} the listener runs on Paho's callback thread, the one that
   * took the message from the connection; Paho acknowledges a QoS 1 message once every listener of
   * that thread has returned.
   */
  @Override
  public CompletionStage<Subscription> subscribe(
      String filter, int qos, MessageListener listener, Delivery delivery) {
    Topics.checkFilter(filter);
    checkQos(qos);
    Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(delivery, "delivery");
    SubscriptionImpl subscription = new SubscriptionImpl(filter, qos, listener, delivery);
    if (state != ConnectionState.CONNECTED) {
      subscription.future.completeExceptionally(notConnected("subscribe to '" + filter + "'"));
    } else if (!runOnDeliveryThread(() -> startSubscribe(subscription))) {
      subscription.future.completeExceptionally(
          new TransportException(
              "transport "
                  + settings.clientId()
                  + " is closed: cannot subscribe to '"
                  + filter
                  + "'",
              null));
    }
    return subscription.future.minimalCompletionStage();
  }

  /** Where the client identity of new connections comes from; null without one. For tests. */
  String identitySource() {
    Tls.Identity current = identity;
    return current == null ? null : current.source();
  }

  /** Publishes Paho refused with 32202 or 32001 since activation: 0 unless back-pressure broke. */
  long clientRefusals() {
    return outbox.refusals();
  }

  @Override
  public ConnectionStatus status() {
    return new Status(
        state,
        stateSince,
        java.util.Optional.ofNullable(lastError),
        reconnectCount,
        duplicateSuspected,
        durable == null ? 0 : durable.backlog());
  }

  /**
   * {@inheritDoc}
   *
   * <p>The stage completes on the transport's delivery thread.
   */
  @Override
  public CompletionStage<Void> publishDurably(String topic, byte[] payload) {
    Topics.checkTopicName(topic);
    Objects.requireNonNull(payload, "payload");
    if (durable == null) {
      return CompletableFuture.<Void>failedFuture(
              new TransportException(
                  "cannot publish durably to '" + topic + "': " + durableUnavailable, null))
          .minimalCompletionStage();
    }
    return durable.append(topic, payload).minimalCompletionStage();
  }

  @Override
  public CompletionStage<Boolean> trySwapIdentity(
      Path certificate, Path privateKey, Duration timeout) {
    Objects.requireNonNull(certificate, "certificate");
    Objects.requireNonNull(privateKey, "privateKey");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("timeout must be at least 1 s, got " + timeout);
    }
    CompletableFuture<Boolean> result = new CompletableFuture<>();
    if (!settings.tls()) {
      result.completeExceptionally(
          new TransportException(
              "cannot swap the identity: broker.url " + settings.serverUri() + " is not TLS",
              null));
      return result.minimalCompletionStage();
    }
    Tls.Identity next;
    try {
      next = Tls.pem("certificate", certificate, "private key", privateKey);
    } catch (IllegalArgumentException e) {
      result.completeExceptionally(
          new TransportException("cannot swap the identity: " + e.getMessage(), e));
      return result.minimalCompletionStage();
    }
    if (!runOnDeliveryThread(() -> startSwap(next, timeout, result))) {
      result.completeExceptionally(closedException("swap the identity"));
    }
    return result.minimalCompletionStage();
  }

  /** Stops reconnecting, disconnects, and stops the delivery thread. */
  @Deactivate
  void deactivate() {
    Connection connection;
    synchronized (lifecycleLock) {
      closed = true;
      connection = current;
    }
    setState(ConnectionState.DISCONNECTED);
    if (connection != null) {
      disconnect(connection);
    }
    if (durable != null) {
      // appends already queued reach the disk; what is unacknowledged goes out after a restart
      durable.close(QUIESCE_MILLIS);
    }
    // Acks that arrived while quiescing are queued before this, so they complete normally first.
    boolean queued = runOnDeliveryThread(this::failOutstanding);
    delivery.shutdown();
    try {
      if (!delivery.awaitTermination(QUIESCE_MILLIS, MILLISECONDS)) {
        LOG.warn(
            "MQTT transport {}: a listener has not returned within {} ms of the deactivation;"
                + " interrupting the delivery thread",
            settings.clientId(),
            QUIESCE_MILLIS);
        delivery.shutdownNow();
        delivery.awaitTermination(QUIESCE_MILLIS, MILLISECONDS);
      }
    } catch (InterruptedException e) {
      delivery.shutdownNow();
      Thread.currentThread().interrupt();
    }
    if (!queued || !delivery.isTerminated()) {
      // failOutstanding could not run on its thread; the outbox is thread-safe, so close it here
      outbox.close(topic -> closedException("publish to '" + topic + "'"));
    }
    LOG.info("MQTT transport {} to {} closed", settings.clientId(), settings.serverUri());
  }

  // ---- connection state machine (delivery thread) ----

  private void attemptConnect() {
    reconnectTimer = null;
    Connection connection;
    Exception failure = null;
    synchronized (lifecycleLock) {
      if (closed) {
        return;
      }
      try {
        connection = new Connection(++attempts);
      } catch (MqttException e) {
        // The settings were validated; Paho refusing them is a bug that deserves a loud line.
        LOG.error(
            "MQTT client for {} as {} cannot be created: {}",
            settings.serverUri(),
            settings.clientId(),
            describe(e),
            e);
        failedAttempts++;
        scheduleReconnect();
        return;
      }
      current = connection;
      setState(ConnectionState.CONNECTING);
      LOG.debug(
          "MQTT connecting to {} as {} (attempt {} since the last connection)",
          settings.serverUri(),
          settings.clientId(),
          failedAttempts + 1);
      try {
        connection.client.connect(
            connection.options,
            null,
            new IMqttActionListener() {
              @Override
              public void onSuccess(IMqttToken token) {
                connection.connectAnswered = true;
                runOnDeliveryThread(() -> onConnected(connection));
              }

              @Override
              public void onFailure(IMqttToken token, Throwable cause) {
                connection.connectAnswered = true;
                runOnDeliveryThread(() -> attemptFailed(connection, cause));
              }
            });
      } catch (MqttException | RuntimeException e) {
        connection.connectAnswered = true;
        failure = e;
      }
    }
    if (failure != null) {
      attemptFailed(connection, failure);
      return;
    }
    long timeout = settings.connectTimeoutSeconds() * 1000L + CONNACK_GRACE_MILLIS;
    attemptTimer = schedule(() -> onConnackTimeout(connection, timeout), timeout);
  }

  private void onConnackTimeout(Connection connection, long timeout) {
    if (connection != current || state != ConnectionState.CONNECTING) {
      return;
    }
    if (!connection.safeToForce()) {
      // Paho is still starting its threads (a slow DNS lookup, say); forcing now could leave its
      // connect thread spinning forever, so look again shortly.
      attemptTimer = schedule(() -> onConnackTimeout(connection, timeout), FORCE_POLL_MILLIS);
      return;
    }
    attemptFailed(connection, new TimeoutException("no CONNACK within " + timeout + " ms"));
  }

  private void onConnected(Connection connection) {
    if (connection != current || state != ConnectionState.CONNECTING || closed) {
      return;
    }
    cancel(attemptTimer);
    Map<String, Integer> wanted = new LinkedHashMap<>();
    for (SubscriptionImpl s : subscriptions) {
      if (!s.closed.get()) {
        wanted.merge(s.filter, s.qos, Math::max);
      }
    }
    if (wanted.isEmpty()) {
      becameConnected(connection, 0);
      return;
    }
    String[] filters = wanted.keySet().toArray(new String[0]);
    int[] qos = wanted.values().stream().mapToInt(Integer::intValue).toArray();
    try {
      connection.client.subscribe(
          filters,
          qos,
          null,
          new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              int[] granted = token.getGrantedQos();
              runOnDeliveryThread(() -> onResubscribed(connection, filters, granted));
            }

            @Override
            public void onFailure(IMqttToken token, Throwable cause) {
              runOnDeliveryThread(() -> attemptFailed(connection, cause));
            }
          });
    } catch (MqttException | RuntimeException e) {
      attemptFailed(connection, e);
      return;
    }
    long timeout = settings.connectTimeoutSeconds() * 1000L;
    attemptTimer =
        schedule(
            () ->
                attemptFailed(
                    connection,
                    new TimeoutException(
                        "no SUBACK for the re-subscriptions within " + timeout + " ms")),
            timeout);
  }

  private void onResubscribed(Connection connection, String[] filters, int[] granted) {
    if (connection != current || state != ConnectionState.CONNECTING) {
      return;
    }
    cancel(attemptTimer);
    for (int i = 0; i < filters.length; i++) {
      if (granted == null || i >= granted.length || granted[i] == SUBACK_FAILURE) {
        // Reconnecting would not change the broker's mind and would only storm it; the
        // subscription stays open and is asked for again after the next reconnect.
        LOG.error(
            "MQTT broker {} refused the re-subscription to '{}' (SUBACK 0x80); its listeners"
                + " receive nothing until a later reconnect succeeds in subscribing again",
            settings.serverUri(),
            filters[i]);
      }
    }
    becameConnected(connection, filters.length);
  }

  private void becameConnected(Connection connection, int filters) {
    // open first: whoever sees CONNECTED can publish
    outbox.open(
        (topic, payload, qos, listener) ->
            connection.client.publish(topic, payload, qos, false, null, listener));
    if (!setState(ConnectionState.CONNECTED)) {
      outbox.close(topic -> closedException("publish to '" + topic + "'"));
      return;
    }
    if (everConnected) {
      LOG.info(
          "MQTT reconnected to {} as {} after {} failed attempt(s); {} subscription filter(s)"
              + " restored",
          settings.serverUri(),
          settings.clientId(),
          failedAttempts,
          filters);
    } else {
      LOG.info("MQTT connected to {} as {}", settings.serverUri(), settings.clientId());
    }
    if (everConnected) {
      reconnectCount++;
    }
    everConnected = true;
    failedAttempts = 0;
    outageReported = false;
    connectedAtNanos = System.nanoTime();
    long window = settings.duplicateWindowSeconds() * 1000L;
    schedule(() -> stayedUp(connection), window);
    if (swap != null && connection.identity == swap.next) {
      Swap done = swap;
      swap = null;
      cancel(done.timer);
      LOG.info(
          "MQTT transport {} connected with the new client identity {}; keeping it",
          settings.clientId(),
          done.next.source());
      done.result.complete(true);
    }
    if (durable != null) {
      durable.connected(
          (topic, payload) ->
              outbox.publish(
                  topic, payload, 1, () -> notConnected("publish durably to '" + topic + "'")),
          settings.maxInflight());
    }
    listenersToldConnected = true;
    for (ConnectionListener listener : connectionListeners) {
      try {
        listener.connected();
      } catch (RuntimeException | LinkageError e) {
        LOG.error("Connection listener {} failed in connected()", listener, e);
      }
    }
    LOG.debug("MQTT connection {} of {} is up", connection.epoch, settings.clientId());
  }

  private void attemptFailed(Connection connection, Throwable cause) {
    if (connection != current || state != ConnectionState.CONNECTING) {
      return;
    }
    cancel(attemptTimer);
    setState(ConnectionState.DISCONNECTED);
    discard(connection);
    if (closed) {
      return;
    }
    failedAttempts++;
    lastError = ConnectErrors.explain(cause, connection.identity, settings.serverUri());
    if (!outageReported) {
      outageReported = true;
      LOG.warn(
          "MQTT cannot connect to {} as {}: {}; retrying with backoff of {} to {} ms",
          settings.serverUri(),
          settings.clientId(),
          lastError,
          settings.reconnectMinMillis(),
          settings.reconnectMaxMillis());
    } else {
      LOG.debug(
          "MQTT connection attempt {} to {} failed: {}",
          failedAttempts,
          settings.serverUri(),
          describe(cause));
    }
    scheduleReconnect();
  }

  private void onConnectionLost(Connection connection, Throwable cause) {
    onConnectionLost(connection, cause, false);
  }

  /**
   * @param deliberate we drop the connection ourselves (identity swap): no error, no duplicate-id
   *     suspicion, and the next attempt starts at once
   */
  private void onConnectionLost(Connection connection, Throwable cause, boolean deliberate) {
    if (connection != current || closed) {
      return;
    }
    if (state == ConnectionState.CONNECTING) {
      attemptFailed(connection, cause);
      return;
    }
    if (state != ConnectionState.CONNECTED) {
      return;
    }
    setState(ConnectionState.DISCONNECTED);
    outbox.close(
        topic ->
            new TransportException(
                "connection to "
                    + settings.serverUri()
                    + " lost before the broker acknowledged the publish to '"
                    + topic
                    + "'",
                cause));
    discard(connection);
    if (durable != null) {
      durable.disconnected();
    }
    boolean wasSuspected = duplicateSuspected;
    if (!deliberate) {
      lastError = "connection lost: " + describe(cause);
      countQuickLoss();
    }
    if (deliberate) {
      LOG.info("MQTT transport {}: {}", settings.clientId(), describe(cause));
    } else if (wasSuspected) {
      // one line per episode (countQuickLoss logged it); the rest is detail
      LOG.debug("MQTT connection to {} lost again: {}", settings.serverUri(), describe(cause));
    } else if (!duplicateSuspected) {
      LOG.warn(
          "MQTT connection to {} as {} lost: {}; reconnecting with backoff of {} to {} ms",
          settings.serverUri(),
          settings.clientId(),
          describe(cause),
          settings.reconnectMinMillis(),
          settings.reconnectMaxMillis());
    }
    outageReported = true;
    for (SubscriptionImpl s : List.copyOf(subscriptions)) {
      if (!s.future.isDone()) {
        // A subscription without its SUBACK is not kept (MqttTransport#subscribe).
        subscriptions.remove(s);
        cancel(s.timeout);
        s.future.completeExceptionally(
            new TransportException(
                "connection to "
                    + settings.serverUri()
                    + " lost before the SUBACK for '"
                    + s.filter
                    + "'",
                cause));
      }
    }
    if (listenersToldConnected) {
      listenersToldConnected = false;
      for (ConnectionListener listener : connectionListeners) {
        try {
          listener.connectionLost(cause);
        } catch (RuntimeException | LinkageError e) {
          LOG.error("Connection listener {} failed in connectionLost()", listener, e);
        }
      }
    }
    if (deliberate) {
      failedAttempts = 0;
      reconnectTimer = schedule(this::attemptConnect, 0);
    } else {
      scheduleReconnect();
    }
  }

  // ---- duplicate client id (delivery thread) ----

  /** A lost connection: if it was short-lived, one more hint of a duplicate client id. */
  private void countQuickLoss() {
    long upMillis = (System.nanoTime() - connectedAtNanos) / 1_000_000L;
    if (upMillis >= settings.duplicateWindowSeconds() * 1000L) {
      quickLosses = 0;
      return;
    }
    quickLosses++;
    if (quickLosses >= settings.duplicateLosses() && !duplicateSuspected) {
      duplicateSuspected = true;
      LOG.warn(
          "MQTT broker {} dropped {} {} times in a row within {} s of connecting: another client"
              + " probably uses the same client id; reconnecting only every {} ms or so until a"
              + " connection stays up",
          settings.serverUri(),
          settings.clientId(),
          quickLosses,
          settings.duplicateWindowSeconds(),
          settings.duplicateBackoffMillis());
    }
  }

  /** The connection outlived the duplicate window: whatever dropped us before has stopped. */
  private void stayedUp(Connection connection) {
    if (connection != current || state != ConnectionState.CONNECTED) {
      return;
    }
    quickLosses = 0;
    if (duplicateSuspected) {
      duplicateSuspected = false;
      LOG.info(
          "MQTT connection of {} to {} stays up again: no longer suspecting a duplicate client id",
          settings.clientId(),
          settings.serverUri());
    }
  }

  // ---- identity swap (delivery thread) ----

  private void startSwap(Tls.Identity next, Duration timeout, CompletableFuture<Boolean> result) {
    if (closed) {
      result.completeExceptionally(closedException("swap the identity"));
      return;
    }
    if (swap != null) {
      result.completeExceptionally(
          new TransportException(
              "cannot swap the identity: another swap (to " + swap.next.source() + ") is under way",
              null));
      return;
    }
    swap = new Swap(identity, next, result);
    identity = next;
    failedAttempts = 0;
    LOG.info(
        "MQTT transport {}: trying the new client identity {} for up to {} ms",
        settings.clientId(),
        next.source(),
        timeout.toMillis());
    swap.timer = schedule(this::swapTimedOut, timeout.toMillis());
    restartConnection("reconnecting with the new client identity " + next.source());
  }

  private void swapTimedOut() {
    if (swap == null) {
      return;
    }
    Swap failed = swap;
    swap = null;
    identity = failed.previous;
    failedAttempts = 0;
    LOG.warn(
        "MQTT transport {}: the new client identity {} did not connect in time ({}); back to {}",
        settings.clientId(),
        failed.next.source(),
        lastError == null ? "no error reported" : lastError,
        failed.previous == null ? "no client certificate" : failed.previous.source());
    restartConnection("back to the previous client identity");
    failed.result.complete(false);
  }

  /** Drops whatever connection or attempt there is and connects again at once. */
  private void restartConnection(String why) {
    if (closed) {
      return;
    }
    Connection connection = current;
    if (state == ConnectionState.CONNECTED) {
      onConnectionLost(connection, new TransportException(why, null), true);
    } else if (state == ConnectionState.CONNECTING) {
      if (!connection.safeToForce()) {
        // see Connection#safeToForce: look again shortly
        schedule(
            () -> {
              if (current == connection && state == ConnectionState.CONNECTING) {
                restartConnection(why);
              }
            },
            FORCE_POLL_MILLIS);
        return;
      }
      cancel(attemptTimer);
      setState(ConnectionState.DISCONNECTED);
      discard(connection);
      reconnectTimer = schedule(this::attemptConnect, 0);
    } else {
      cancel(reconnectTimer);
      reconnectTimer = schedule(this::attemptConnect, 0);
    }
  }

  private void scheduleReconnect() {
    if (closed) {
      return;
    }
    long delay =
        duplicateSuspected
            ? duplicateBackoff.delayMillis(quickLosses - settings.duplicateLosses())
            : backoff.delayMillis(failedAttempts);
    LOG.debug("MQTT next connection attempt to {} in {} ms", settings.serverUri(), delay);
    reconnectTimer = schedule(this::attemptConnect, delay);
  }

  /** Runs last on the delivery thread at deactivation. */
  private void failOutstanding() {
    cancel(attemptTimer);
    cancel(reconnectTimer);
    if (swap != null) {
      cancel(swap.timer);
      swap.result.completeExceptionally(closedException("finish the identity swap"));
      swap = null;
    }
    outbox.close(topic -> closedException("publish to '" + topic + "'"));
    for (SubscriptionImpl s : subscriptions) {
      cancel(s.timeout);
      s.future.completeExceptionally(closedException("subscribe to '" + s.filter + "'"));
    }
    subscriptions.clear();
  }

  // ---- subscribing (delivery thread) ----

  private void startSubscribe(SubscriptionImpl subscription) {
    if (state != ConnectionState.CONNECTED || closed) {
      subscription.future.completeExceptionally(
          notConnected("subscribe to '" + subscription.filter + "'"));
      return;
    }
    // Listed before the SUBACK: a retained message may arrive right behind it.
    subscriptions.add(subscription);
    int wireQos = subscription.qos;
    for (SubscriptionImpl s : subscriptions) {
      if (s.filter.equals(subscription.filter) && !s.closed.get()) {
        // The broker keeps one QoS per filter: the highest any of its subscriptions asked for.
        wireQos = Math.max(wireQos, s.qos);
      }
    }
    try {
      current.client.subscribe(
          subscription.filter,
          wireQos,
          null,
          new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              int[] granted = token.getGrantedQos();
              runOnDeliveryThread(() -> onSubscribeAnswered(subscription, granted, null));
            }

            @Override
            public void onFailure(IMqttToken token, Throwable cause) {
              runOnDeliveryThread(() -> onSubscribeAnswered(subscription, null, cause));
            }
          });
    } catch (MqttException | RuntimeException e) {
      subscriptions.remove(subscription);
      subscription.future.completeExceptionally(
          new TransportException(
              "subscribe to '" + subscription.filter + "' failed: " + describe(e), e));
      return;
    }
    long timeout = settings.connectTimeoutSeconds() * 1000L;
    subscription.timeout = schedule(() -> onSubscribeTimeout(subscription, timeout), timeout);
  }

  private void onSubscribeAnswered(SubscriptionImpl subscription, int[] granted, Throwable error) {
    if (subscription.future.isDone()) {
      return;
    }
    cancel(subscription.timeout);
    if (error != null) {
      subscriptions.remove(subscription);
      subscription.future.completeExceptionally(
          new TransportException(
              "subscribe to '" + subscription.filter + "' failed: " + describe(error), error));
    } else if (granted == null || granted.length == 0 || granted[0] == SUBACK_FAILURE) {
      subscriptions.remove(subscription);
      subscription.future.completeExceptionally(
          new TransportException(
              "broker "
                  + settings.serverUri()
                  + " refused the subscription to '"
                  + subscription.filter
                  + "' (SUBACK return code 0x80)",
              null));
    } else {
      LOG.debug("MQTT subscribed to '{}' (granted QoS {})", subscription.filter, granted[0]);
      subscription.future.complete(subscription);
    }
  }

  private void onSubscribeTimeout(SubscriptionImpl subscription, long timeout) {
    if (subscription.future.isDone()) {
      return;
    }
    subscriptions.remove(subscription);
    subscription.future.completeExceptionally(
        new TransportException(
            "no SUBACK from "
                + settings.serverUri()
                + " for '"
                + subscription.filter
                + "' within "
                + timeout
                + " ms",
            null));
    // The broker may still grant it later; nobody would listen.
    unsubscribeIfUnused(subscription.filter);
  }

  private void onSubscriptionClosed(SubscriptionImpl subscription) {
    if (subscriptions.remove(subscription)) {
      unsubscribeIfUnused(subscription.filter);
    }
  }

  private void unsubscribeIfUnused(String filter) {
    if (state == ConnectionState.DISCONNECTED || closed) {
      // nothing to undo: without a connection the broker holds no subscription of ours
      return;
    }
    for (SubscriptionImpl s : subscriptions) {
      if (s.filter.equals(filter)) {
        return;
      }
    }
    try {
      current.client.unsubscribe(
          filter,
          null,
          new IMqttActionListener() {
            @Override
            public void onSuccess(IMqttToken token) {
              LOG.debug("MQTT unsubscribed from '{}'", filter);
            }

            @Override
            public void onFailure(IMqttToken token, Throwable cause) {
              // harmless: messages for a filter nobody listens to are dropped on arrival
              LOG.debug("MQTT unsubscribe from '{}' failed: {}", filter, describe(cause));
            }
          });
    } catch (MqttException | RuntimeException e) {
      LOG.debug("MQTT unsubscribe from '{}' failed: {}", filter, describe(e));
    }
  }

  // ---- delivery ----

  /**
   * A message from Paho, on Paho's callback thread: the listeners that asked for {@link
   * Delivery#IMMEDIATE} get it here, the others on the delivery thread.
   */
  private void arrived(String topic, byte[] payload) {
    if (closed) {
      return;
    }
    List<SubscriptionImpl> immediate = new ArrayList<>(2);
    List<SubscriptionImpl> deferred = new ArrayList<>(2);
    for (SubscriptionImpl s : subscriptions) {
      if (!s.closed.get() && Topics.matches(s.filter, topic)) {
        (s.delivery == Delivery.IMMEDIATE ? immediate : deferred).add(s);
      }
    }
    if (immediate.isEmpty() && deferred.isEmpty()) {
      LOG.debug("MQTT message to '{}' matches no open subscription; dropped", topic);
      return;
    }
    // the payload itself goes to the last listener of all, so copy while others follow
    call(immediate, topic, payload, !deferred.isEmpty());
    if (!deferred.isEmpty()) {
      runOnDeliveryThread(
          () -> {
            if (!closed) {
              call(deferred, topic, payload, false);
            }
          });
    }
  }

  /**
   * Calls listeners one after the other; each owns its payload, so all but the last get a copy (and
   * the last too when {@code keepPayload}, because others get the message after these).
   */
  private static void call(
      List<SubscriptionImpl> listeners, String topic, byte[] payload, boolean keepPayload) {
    for (int i = 0; i < listeners.size(); i++) {
      SubscriptionImpl s = listeners.get(i);
      if (s.closed.get()) {
        // closed by an earlier listener of this same message
        continue;
      }
      byte[] copy = i == listeners.size() - 1 && !keepPayload ? payload : payload.clone();
      try {
        s.listener.onMessage(topic, copy);
      } catch (RuntimeException | LinkageError e) {
        LOG.error(
            "Message listener of the subscription to '{}' failed on a message to '{}'",
            s.filter,
            topic,
            e);
      }
    }
  }

  // ---- helpers ----

  /** Changes the state; after deactivation only to DISCONNECTED. Returns whether it changed. */
  private boolean setState(ConnectionState next) {
    synchronized (stateLock) {
      if (closed && next != ConnectionState.DISCONNECTED) {
        return false;
      }
      if (state != next) {
        stateSince = Instant.now();
      }
      state = next;
      return true;
    }
  }

  /** Disconnects at deactivation: lets in-flight work finish for a moment, then drops it. */
  private void disconnect(Connection connection) {
    if (connection.discarded.get()) {
      return;
    }
    try {
      if (connection.client.isConnected()) {
        connection.client.disconnect(QUIESCE_MILLIS).waitForCompletion(QUIESCE_MILLIS + 1_000);
      }
    } catch (MqttException e) {
      LOG.debug("MQTT disconnect from {} failed: {}", settings.serverUri(), describe(e));
    }
    long deadline =
        System.nanoTime() + (settings.connectTimeoutSeconds() * 1000L + 5_000) * 1_000_000L;
    try {
      while (!connection.safeToForce() && System.nanoTime() - deadline < 0) {
        Thread.sleep(FORCE_POLL_MILLIS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!connection.safeToForce()) {
      LOG.warn(
          "MQTT client {} was still starting its connection to {} when the transport closed;"
              + " dropping it anyway, a Paho thread may linger",
          settings.clientId(),
          settings.serverUri());
    }
    discard(connection);
  }

  /**
   * Closes a Paho client whatever its state, so none of its threads outlives it. Callers make sure
   * the client is not in the middle of starting a connection ({@link Connection#safeToForce()}).
   */
  private void discard(Connection connection) {
    if (!connection.discarded.compareAndSet(false, true)) {
      return;
    }
    MqttAsyncClient client = connection.client;
    try {
      client.close(true);
      return;
    } catch (MqttException | RuntimeException e) {
      // still connected or connecting: drop the connection first
      LOG.trace("MQTT client close refused, forcing a disconnect", e);
    }
    try {
      client.disconnectForcibly(0, 0, false);
    } catch (MqttException | RuntimeException e) {
      LOG.debug("MQTT forced disconnect failed: {}", describe(e));
    }
    try {
      client.close(true);
    } catch (MqttException | RuntimeException e) {
      LOG.debug("MQTT client close failed: {}", describe(e));
    }
  }

  private boolean runOnDeliveryThread(Runnable task) {
    try {
      delivery.execute(() -> runSafely(task));
      return true;
    } catch (RejectedExecutionException e) {
      LOG.debug("MQTT transport {} is closed; dropped a late event", settings.clientId());
      return false;
    }
  }

  private ScheduledFuture<?> schedule(Runnable task, long delayMillis) {
    try {
      return delivery.schedule(() -> runSafely(task), delayMillis, MILLISECONDS);
    } catch (RejectedExecutionException e) {
      return null;
    }
  }

  private void runSafely(Runnable task) {
    try {
      task.run();
    } catch (RuntimeException e) {
      LOG.error("MQTT transport {}: internal error on the delivery thread", settings.clientId(), e);
    }
  }

  private static void cancel(ScheduledFuture<?> timer) {
    if (timer != null) {
      timer.cancel(false);
    }
  }

  private TransportException notConnected(String action) {
    return new TransportException(
        "not connected to "
            + settings.serverUri()
            + " (state "
            + state
            + "): cannot "
            + action
            + "; the transport reconnects by itself, ConnectionListener.connected() tells when",
        null);
  }

  private TransportException closedException(String action) {
    return new TransportException(
        "transport " + settings.clientId() + " was closed before it could " + action, null);
  }

  private static void checkQos(int qos) {
    if (qos != 0 && qos != 1) {
      throw new IllegalArgumentException("qos must be 0 or 1, got " + qos);
    }
  }

  static String describe(Throwable t) {
    if (t == null) {
      return "no cause given";
    }
    // MqttException's toString carries its reason code and its cause
    StringBuilder text = new StringBuilder(t.toString());
    if (!(t instanceof MqttException)) {
      Throwable cause = t.getCause();
      for (int depth = 0; cause != null && depth < 3; depth++, cause = cause.getCause()) {
        text.append("; caused by ").append(cause);
      }
    }
    return text.toString();
  }

  private static ThreadFactory threadFactory(String name) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      int n = count.incrementAndGet();
      Thread thread = new Thread(runnable, THREAD_PREFIX + name + (n == 1 ? "" : "-" + n));
      // never keeps a JVM alive, even if a deactivation was missed
      thread.setDaemon(true);
      thread.setUncaughtExceptionHandler(
          (t, e) -> LOG.error("Uncaught exception on MQTT thread {}", t.getName(), e));
      return thread;
    };
  }

  @Override
  public String toString() {
    return "PahoMqttTransport[" + settings.clientId() + "@" + settings.serverUri() + "]";
  }

  /** One Paho client, for one connection attempt and the connection it may become. */
  private final class Connection implements MqttCallback {
    final long epoch;
    final Tls.Identity identity;
    final MqttAsyncClient client;
    final MqttConnectOptions options;
    final AtomicBoolean discarded = new AtomicBoolean();
    volatile boolean connectAnswered;
    volatile boolean wroteConnect;

    Connection(long epoch) throws MqttException {
      this.epoch = epoch;
      this.identity = PahoMqttTransport.this.identity;
      SocketFactory factory =
          settings.tls()
              ? new TlsSocketFactory(
                  Tls.context(identity, trust), settings.tlsAlpn(), () -> wroteConnect = true)
              : new NoDelaySocketFactory(() -> wroteConnect = true);
      this.options = connectOptions(settings, factory);
      // In memory: what must survive is in our durable outbox, and the broker keeps the session.
      this.client =
          new MqttAsyncClient(settings.serverUri(), settings.clientId(), new MemoryPersistence());
      client.setCallback(this);
    }

    /**
     * Whether Paho's connect thread is past starting its helper threads (it wrote CONNECT, or the
     * connect ended). Before that, Paho 1.2.5's CommsReceiver.start() waits forever for a receiver
     * that a forced disconnect has already stopped.
     */
    boolean safeToForce() {
      return wroteConnect || connectAnswered;
    }

    @Override
    public void connectionLost(Throwable cause) {
      runOnDeliveryThread(() -> onConnectionLost(this, cause));
    }

    @Override
    public void messageArrived(String topic, MqttMessage message) {
      try {
        arrived(topic, message.getPayload());
      } catch (RuntimeException | LinkageError e) {
        // Paho would drop the connection over an exception thrown here
        LOG.error(
            "MQTT transport {}: a message to '{}' was dropped", settings.clientId(), topic, e);
      }
    }

    @Override
    public void deliveryComplete(IMqttDeliveryToken token) {
      // Publishes complete through their own action listeners (Outbox).
    }
  }

  private final class SubscriptionImpl implements Subscription {
    final String filter;
    final int qos;
    final MessageListener listener;
    final Delivery delivery;
    final CompletableFuture<Subscription> future = new CompletableFuture<>();
    final AtomicBoolean closed = new AtomicBoolean();
    // delivery thread
    ScheduledFuture<?> timeout;

    SubscriptionImpl(String filter, int qos, MessageListener listener, Delivery delivery) {
      this.filter = filter;
      this.qos = qos;
      this.listener = listener;
      this.delivery = delivery;
    }

    @Override
    public String filter() {
      return filter;
    }

    @Override
    public void close() {
      if (closed.compareAndSet(false, true)) {
        runOnDeliveryThread(() -> onSubscriptionClosed(this));
      }
    }

    @Override
    public String toString() {
      return "Subscription[" + filter + ", QoS " + qos + (closed.get() ? ", closed" : "") + "]";
    }
  }

  /** An identity swap under way (delivery thread). */
  private static final class Swap {
    final Tls.Identity previous;
    final Tls.Identity next;
    final CompletableFuture<Boolean> result;
    ScheduledFuture<?> timer;

    Swap(Tls.Identity previous, Tls.Identity next, CompletableFuture<Boolean> result) {
      this.previous = previous;
      this.next = next;
      this.result = result;
    }
  }

  /** An immutable snapshot for {@link #status()}. */
  private record Status(
      ConnectionState state,
      Instant since,
      java.util.Optional<String> lastError,
      long reconnectCount,
      boolean duplicateClientIdSuspected,
      long durableBacklog)
      implements ConnectionStatus {}
}
