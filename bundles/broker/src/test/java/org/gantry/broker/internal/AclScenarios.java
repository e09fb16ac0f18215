package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 8's authorisation scenarios, run against each broker (the embedded one and Mosquitto) by a
 * subclass: a site PKI with certificates for the admin {@code gantry-hub} and the gateways {@code
 * gw-a} (thing-a) and {@code gw-b} (thing-b), and an ACL file in Mosquitto's syntax as the hub
 * writes it.
 */
abstract class AclScenarios {

  static final String ACL =
      """
      # Written by the test as the Gantry hub writes it.
      user gantry-hub
      topic readwrite $aws/things/+/jobs/#

      user gw-a
      topic readwrite $aws/things/thing-a/jobs/#

      user gw-b
      topic readwrite $aws/things/thing-b/jobs/#
      """;

  static final int REFUSED = 0x80;

  /** What a client's inbox receives when the broker ends its connection. */
  static final String LOST = "(connection lost)";

  /** The inbox of clients whose messages the test does not look at. */
  final BlockingQueue<String> nowhere = new LinkedBlockingQueue<>();

  static final long WAIT_SECONDS = 10;

  @TempDir Path dir;
  SitePki pki;
  Path aclFile;
  private final List<MqttClient> clients = new ArrayList<>();

  /** Starts the broker with a TLS listener, the site CA and {@link #aclFile}. */
  abstract void startBroker() throws Exception;

  abstract void stopBroker() throws Exception;

  /** The TLS listener's URL, ssl://127.0.0.1:port. */
  abstract String tlsUrl();

  /**
   * Whether a refused subscription is answered with SUBACK 0x80. The embedded broker does;
   * Mosquitto 2.0 grants it to an MQTT 3.1.1 client and then checks read access on every message,
   * so that nothing refused is ever delivered. Either way the tests prove non-delivery.
   */
  abstract boolean refusesSubscriptionsInSuback();

  /** Replaces the ACL file ({@link #writeAcl}) and returns once the broker has read it. */
  abstract void changeAcl(String text) throws Exception;

  @BeforeEach
  void setUp() throws Exception {
    pki = new SitePki(dir);
    aclFile = dir.resolve("acl");
    writeAcl(ACL);
    startBroker();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (MqttClient c : clients) {
      try {
        if (c.isConnected()) {
          c.disconnectForcibly(100, 1000);
        }
        c.close();
      } catch (MqttException e) {
        // the broker may already have dropped it; nothing to clean up then
      }
    }
    stopBroker();
  }

  /** Replaces the ACL file the way the hub does: a temporary file renamed over it. */
  void writeAcl(String text) throws Exception {
    Path tmp = dir.resolve("acl.tmp");
    Files.writeString(tmp, text);
    Files.move(tmp, aclFile, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  /**
   * A connected client presenting a certificate with subject CN {@code cn}; every message it
   * receives is added to {@code inbox} once, as "topic payload", and {@link #LOST} when the broker
   * ends the connection.
   */
  MqttClient tls(String cn, String clientId, BlockingQueue<String> inbox) throws MqttException {
    return connect(tlsUrl(), pki.socketFactory(pki.client(cn)), clientId, null, inbox);
  }

  MqttClient connect(
      String url,
      SSLSocketFactory tls,
      String clientId,
      String username,
      BlockingQueue<String> inbox)
      throws MqttException {
    MqttClient c = new MqttClient(url, clientId, new MemoryPersistence());
    clients.add(c);
    c.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {
            inbox.add(LOST);
          }

          @Override
          public void messageArrived(String topic, MqttMessage m) {
            inbox.add(topic + " " + new String(m.getPayload(), StandardCharsets.UTF_8));
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {}
        });
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
    o.setCleanSession(true);
    o.setConnectionTimeout((int) WAIT_SECONDS);
    o.setAutomaticReconnect(false);
    if (tls != null) {
      o.setSocketFactory(tls);
    }
    if (username != null) {
      o.setUserName(username);
      o.setPassword("not-a-secret".toCharArray());
    }
    c.setTimeToWait(TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
    c.connect(o);
    return c;
  }

  /** Subscribes at QoS 1; returns the granted QoS, or {@link #REFUSED} for SUBACK 0x80. */
  static int subscribe(MqttClient c, String filter) throws MqttException {
    try {
      return c.subscribeWithResponse(filter, 1).getGrantedQos()[0];
    } catch (MqttException e) {
      if (e.getReasonCode() == MqttException.REASON_CODE_SUBSCRIBE_FAILED) {
        return REFUSED;
      }
      throw e;
    }
  }

  /** Subscribes to a filter the ACL refuses: SUBACK 0x80 where the broker answers that way. */
  void subscribeRefused(MqttClient c, String filter) throws MqttException {
    int granted = subscribe(c, filter);
    if (refusesSubscriptionsInSuback()) {
      assertEquals(REFUSED, granted, "SUBACK for " + filter);
    }
  }

  /**
   * Publishes to {@code refused} and then to {@code allowed}; the inbox must receive the second
   * only. Messages from one connection are delivered in order, so had the first been delivered, it
   * would have arrived before the second.
   */
  static void assertOnlySecondArrives(
      MqttClient publisher, String refused, String allowed, BlockingQueue<String> inbox)
      throws Exception {
    publish(publisher, refused, "refused");
    publish(publisher, allowed, "allowed");
    assertEquals(allowed + " allowed", next(inbox));
    assertNull(inbox.poll(), "only the allowed message may arrive");
  }

  static void publish(MqttClient c, String topic, String text) throws MqttException {
    c.publish(topic, text.getBytes(StandardCharsets.UTF_8), 1, false);
  }

  static String next(BlockingQueue<String> inbox) throws InterruptedException {
    return inbox.poll(WAIT_SECONDS, TimeUnit.SECONDS);
  }

  @Test
  void aGatewayWorksWithItsOwnThingsJobsAndTheAdminSeesThem() throws Exception {
    BlockingQueue<String> hubInbox = new LinkedBlockingQueue<>();
    MqttClient hub = tls("gantry-hub", "hub", hubInbox);
    assertEquals(1, subscribe(hub, "$aws/things/+/jobs/start-next"));

    BlockingQueue<String> gwInbox = new LinkedBlockingQueue<>();
    MqttClient gwA = tls("gw-a", "gw-a", gwInbox);
    assertEquals(1, subscribe(gwA, "$aws/things/thing-a/jobs/notify-next"));
    assertEquals(1, subscribe(gwA, "$aws/things/thing-a/jobs/+/get/accepted"));

    publish(hub, "$aws/things/thing-a/jobs/notify-next", "job j1");
    assertEquals("$aws/things/thing-a/jobs/notify-next job j1", next(gwInbox));
    publish(gwA, "$aws/things/thing-a/jobs/start-next", "start");
    assertEquals("$aws/things/thing-a/jobs/start-next start", next(hubInbox));
  }

  @Test
  void aGatewayCannotSubscribeToAnotherGatewaysThingsOrToAllThings() throws Exception {
    BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
    MqttClient gwA = tls("gw-a", "gw-a", inbox);
    subscribeRefused(gwA, "$aws/things/thing-b/jobs/#");
    subscribeRefused(gwA, "$aws/things/thing-b/jobs/notify-next");
    subscribeRefused(gwA, "$aws/things/+/jobs/#");
    subscribeRefused(gwA, "#");

    // what was refused gets nothing, while the gateway's own subscription still works
    assertEquals(1, subscribe(gwA, "$aws/things/thing-a/jobs/notify-next"));
    MqttClient hub = tls("gantry-hub", "hub", nowhere);
    assertOnlySecondArrives(
        hub, "$aws/things/thing-b/jobs/notify-next", "$aws/things/thing-a/jobs/notify-next", inbox);
  }

  @Test
  void aGatewaysPublishToAnotherGatewaysThingNeverArrives() throws Exception {
    BlockingQueue<String> hubInbox = new LinkedBlockingQueue<>();
    MqttClient hub = tls("gantry-hub", "hub", hubInbox);
    assertEquals(1, subscribe(hub, "$aws/things/+/jobs/#"));
    MqttClient gwA = tls("gw-a", "gw-a", nowhere);

    publish(gwA, "$aws/things/thing-b/jobs/j1/update", "refused");
    assertOnlySecondArrives(
        gwA,
        "$aws/things/thing-b/jobs/start-next",
        "$aws/things/thing-a/jobs/start-next",
        hubInbox);
  }

  @Test
  void aGatewayCannotClaimAnotherIdentityByUsernameOrClientId() throws Exception {
    BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
    MqttClient impostor =
        connect(tlsUrl(), pki.socketFactory(pki.client("gw-a")), "gw-b", "gw-b", inbox);
    subscribeRefused(impostor, "$aws/things/thing-b/jobs/#");
    assertEquals(1, subscribe(impostor, "$aws/things/thing-a/jobs/#"));
    MqttClient hub = tls("gantry-hub", "hub", nowhere);
    assertOnlySecondArrives(
        hub, "$aws/things/thing-b/jobs/notify-next", "$aws/things/thing-a/jobs/notify-next", inbox);

    BlockingQueue<String> hubInbox = new LinkedBlockingQueue<>();
    MqttClient observer = tls("gantry-hub", "observer", hubInbox);
    assertEquals(1, subscribe(observer, "$aws/things/+/jobs/#"));
    assertOnlySecondArrives(
        impostor,
        "$aws/things/thing-b/jobs/start-next",
        "$aws/things/thing-a/jobs/start-next",
        hubInbox);
  }

  @Test
  void anAclChangeTakesEffectWithoutARestart() throws Exception {
    BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
    MqttClient gwA = tls("gw-a", "gw-a", inbox);
    MqttClient hub = tls("gantry-hub", "hub", nowhere);
    subscribeRefused(gwA, "$aws/things/thing-c/jobs/#");
    assertEquals(1, subscribe(gwA, "$aws/things/thing-a/jobs/#"));
    assertOnlySecondArrives(
        hub, "$aws/things/thing-c/jobs/notify-next", "$aws/things/thing-a/jobs/notify-next", inbox);

    // attach thing-c to gw-a
    changeAcl(ACL + "\nuser gw-a\ntopic readwrite $aws/things/thing-c/jobs/#\n");
    assertEquals(1, subscribe(gwA, "$aws/things/thing-c/jobs/#"));
    publish(hub, "$aws/things/thing-c/jobs/notify-next", "for c");
    assertEquals("$aws/things/thing-c/jobs/notify-next for c", next(inbox));

    // and detaching thing-a takes it away on the same connection
    changeAcl(
        """
        user gantry-hub
        topic readwrite $aws/things/+/jobs/#
        user gw-a
        topic readwrite $aws/things/thing-c/jobs/#
        """);
    subscribeRefused(gwA, "$aws/things/thing-a/jobs/#");
    assertOnlySecondArrives(
        hub, "$aws/things/thing-a/jobs/notify-next", "$aws/things/thing-c/jobs/notify-next", inbox);
  }

  @Test
  void aCertificateFromAnotherCaIsRefused() {
    SSLSocketFactory foreign = pki.socketFactory(pki.foreignClient("gantry-hub"));
    MqttException e =
        assertThrows(
            MqttException.class, () -> connect(tlsUrl(), foreign, "foreign", null, nowhere));
    assertNotNull(e.getMessage());
  }

  @Test
  void aPrincipalWithoutRulesMayDoNothing() throws Exception {
    BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
    MqttClient stranger = tls("gw-z", "gw-z", inbox);
    subscribeRefused(stranger, "$aws/things/gw-z/jobs/#");
    BlockingQueue<String> hubInbox = new LinkedBlockingQueue<>();
    MqttClient hub = tls("gantry-hub", "hub", hubInbox);
    assertEquals(1, subscribe(hub, "$aws/things/+/jobs/#"));

    publish(hub, "$aws/things/gw-z/jobs/notify-next", "for z");
    // the stranger's publish is acknowledged (QoS 1) before the hub's marker is sent: a broker
    // routes a message before it acknowledges it, so had it been routed it would come first
    publish(stranger, "$aws/things/gw-z/jobs/start-next", "refused");
    publish(hub, "$aws/things/gw-z/jobs/marker", "marker");
    assertEquals("$aws/things/gw-z/jobs/notify-next for z", next(hubInbox));
    assertEquals("$aws/things/gw-z/jobs/marker marker", next(hubInbox));
    assertNull(hubInbox.poll(), "the stranger's publish must not arrive");
    assertNull(inbox.poll(), "the stranger must receive nothing");
    assertTrue(stranger.isConnected(), "refusals do not end the connection");
  }
}
