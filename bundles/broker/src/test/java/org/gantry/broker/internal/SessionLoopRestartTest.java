package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A command that throws inside Moquette 0.17 ends the session loop that ran it, and with it every
 * client whose id hashes to that loop; the broker restarts Moquette so that those clients get in
 * again. The failure is provoked by an authorisation policy that throws for one topic.
 */
class SessionLoopRestartTest {

  private static final UnaryOperator<IAuthorizatorPolicy> BOOM =
      policy ->
          new IAuthorizatorPolicy() {
            @Override
            public boolean canWrite(Topic topic, String user, String client) {
              return policy.canWrite(topic, user, client);
            }

            @Override
            public boolean canRead(Topic topic, String user, String client) {
              if (topic.toString().startsWith("boom")) {
                throw new IllegalStateException("provoked session loop failure");
              }
              return policy.canRead(topic, user, client);
            }
          };

  private BrokerComponent broker;

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.stop();
    }
  }

  @Test
  void aDeadSessionLoopRestartsTheBrokerAndItsClientsGetInAgain() throws Exception {
    int port = BrokerComponentTest.freePort();
    broker = new BrokerComponent(new BrokerSettings("127.0.0.1", port, 131_072, null), BOOM);
    killALoopAndComeBack(port);
  }

  @Test
  void theSameBehindTheFrontEndWithAnAcl(@TempDir Path dir) throws Exception {
    Path acl = dir.resolve("broker.acl");
    Files.writeString(acl, "user gantry-hub\ntopic readwrite #\n");
    int port = BrokerComponentTest.freePort();
    broker =
        new BrokerComponent(
            new BrokerSettings("127.0.0.1", port, 131_072, null, null, acl, "gantry-hub"), BOOM);
    killALoopAndComeBack(port);
  }

  private void killALoopAndComeBack(int port) throws Exception {
    String url = "tcp://127.0.0.1:" + port;
    MqttClient victim = BrokerComponentTest.client(url, "victim");
    // The loop dies while it handles this subscription: no SUBACK ever comes.
    assertThrows(MqttException.class, () -> victim.subscribe("boom/#", 1));
    victim.disconnectForcibly(100, 100);
    victim.close();

    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (broker.restarts() == 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertEquals(1, broker.restarts(), "the broker restarts once");

    // The same client id hashes to the same loop: without the restart it could not connect.
    MqttClient again = BrokerComponentTest.client(url, "victim");
    MqttClient publisher = BrokerComponentTest.client(url, "publisher");
    try {
      BlockingQueue<String> got = new ArrayBlockingQueue<>(4);
      again.subscribe(
          "ok/#",
          1,
          (t, m) -> got.add(t + " " + new String(m.getPayload(), StandardCharsets.UTF_8)));
      publisher.publish("ok/1", "after".getBytes(StandardCharsets.UTF_8), 1, false);
      assertEquals("ok/1 after", got.poll(10, TimeUnit.SECONDS));
    } finally {
      BrokerComponentTest.close(again);
      BrokerComponentTest.close(publisher);
    }
  }
}
