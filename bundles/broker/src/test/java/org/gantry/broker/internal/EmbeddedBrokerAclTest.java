package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/** {@link AclScenarios} on the embedded broker, plus what only it has: the plain listener. */
class EmbeddedBrokerAclTest extends AclScenarios {

  private BrokerComponent broker;
  private int plainPort;
  private int tlsPort;

  @Override
  void startBroker() throws Exception {
    start("gantry-hub");
  }

  private void start(String plainPrincipal) throws Exception {
    plainPort = BrokerComponentTest.freePort();
    tlsPort = BrokerComponentTest.freePort();
    broker =
        new BrokerComponent(
            new BrokerSettings(
                "127.0.0.1",
                plainPort,
                BrokerSettings.MIN_MESSAGE_BYTES,
                null,
                new BrokerSettings.Tls(
                    "127.0.0.1", tlsPort, pki.brokerP12(), SitePki.PASSWORD, pki.caPem()),
                aclFile,
                plainPrincipal));
  }

  @Override
  void stopBroker() {
    if (broker != null) {
      broker.stop();
      broker = null;
    }
  }

  @Override
  boolean refusesSubscriptionsInSuback() {
    return true;
  }

  @Override
  String tlsUrl() {
    return "ssl://127.0.0.1:" + tlsPort;
  }

  @Override
  void changeAcl(String text) throws Exception {
    // the ACL file is checked once a second; wait until this change has been seen
    AclFile acl = broker.acl();
    long seen = acl.changes();
    writeAcl(text);
    assertTrue(acl.awaitChanges(seen, WAIT_SECONDS * 1000), "ACL change not seen");
  }

  private String plainUrl() {
    return "tcp://127.0.0.1:" + plainPort;
  }

  @Test
  void plainClientsActAsThePlainPrincipalWhateverUsernameTheySend() throws Exception {
    MqttClient hub = connect(plainUrl(), null, "hub-plain", null, nowhere);
    assertEquals(1, subscribe(hub, "$aws/things/+/jobs/#"));
    MqttClient named = connect(plainUrl(), null, "named", "gw-a", nowhere);
    assertEquals(1, subscribe(named, "$aws/things/+/jobs/#"), "still gantry-hub");
  }

  @Test
  void withoutAPlainPrincipalPlainClientsMayDoNothing() throws Exception {
    stopBroker();
    start("");
    MqttClient anonymous = connect(plainUrl(), null, "anon", null, nowhere);
    assertEquals(REFUSED, subscribe(anonymous, "$aws/things/+/jobs/#"));
    MqttClient claiming = connect(plainUrl(), null, "gw-a", "gw-a", nowhere);
    assertEquals(REFUSED, subscribe(claiming, "$aws/things/thing-a/jobs/#"));
  }

  @Test
  void aClientIdOfAnotherPrincipalNeitherTakesOverNorEndsItsSession() throws Exception {
    BlockingQueue<String> gwBInbox = new LinkedBlockingQueue<>();
    MqttClient gwB = tls("gw-b", "gw-b", gwBInbox);
    MqttClient impostor = tls("gw-a", "gw-b", nowhere);
    assertTrue(impostor.isConnected());
    // gw-b's connection must have survived the impostor's CONNECT with the same client id:
    // it can still subscribe (a request/answer over its connection)
    assertEquals(1, subscribe(gwB, "$aws/things/thing-b/jobs/#"));
    assertTrue(gwB.isConnected());
    assertNull(gwBInbox.poll(), "gw-b's connection was not ended");
  }

  @Test
  void aMalformedAclFileLeavesTheLastGoodRulesInForce() throws Exception {
    MqttClient gwA = tls("gw-a", "gw-a", nowhere);
    changeAcl("user gw-a\ntopic readwrite $aws/things/thing-a/jobs/#/broken\n");
    assertEquals(1, subscribe(gwA, "$aws/things/thing-a/jobs/#"));
  }

  @Test
  void aWillOnAnotherGatewaysThingIsRefusedAtConnect() throws Exception {
    MqttClient c = new MqttClient(tlsUrl(), "will", new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setSocketFactory(pki.socketFactory(pki.client("gw-a")));
    o.setWill("$aws/things/thing-b/jobs/start-next", new byte[] {1}, 1, false);
    o.setConnectionTimeout((int) WAIT_SECONDS);
    MqttException e = assertThrows(MqttException.class, () -> c.connect(o));
    assertEquals(MqttException.REASON_CODE_NOT_AUTHORIZED, e.getReasonCode());
    c.close();
  }

  @Test
  void nobodyGetsPastTheFrontEndByConnectingToMoquettesInternalPort() throws Exception {
    String internal = "tcp://127.0.0.1:" + broker.internalPort();
    MqttException named =
        assertThrows(
            MqttException.class, () -> connect(internal, null, "direct", "gantry-hub", nowhere));
    assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, named.getReasonCode());
    MqttException anonymous =
        assertThrows(MqttException.class, () -> connect(internal, null, "direct", null, nowhere));
    assertEquals(MqttException.REASON_CODE_FAILED_AUTHENTICATION, anonymous.getReasonCode());
  }

  @Test
  void aSecondConnectOnAConnectionClosesIt() throws Exception {
    // CONNECT, MQTT 3.1.1, clean session, keep-alive 30 s, client id "x"
    byte[] connect = {0x10, 13, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x02, 0, 30, 0, 1, 'x'};
    try (java.net.Socket s =
        new java.net.Socket(java.net.InetAddress.getLoopbackAddress(), plainPort)) {
      s.setSoTimeout((int) (WAIT_SECONDS * 1000));
      s.getOutputStream().write(connect);
      byte[] connack = s.getInputStream().readNBytes(4);
      assertEquals(0x20, connack[0] & 0xff, "CONNACK");
      assertEquals(0, connack[3], "accepted");
      s.getOutputStream().write(connect);
      assertEquals(-1, s.getInputStream().read(), "the connection is closed");
    }
  }
}
