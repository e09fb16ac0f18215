package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/** The hub's broker link when the broker's ACL does not (yet) let the hub subscribe. */
class MqttLinkTest {

  @Test
  void aRefusedSubscriptionIsAskedForAgainUntilTheBrokerGrantsIt() throws Exception {
    // The broker refuses the first two subscriptions, as one does before it has read the ACL
    // file the hub has just written.
    AtomicInteger asked = new AtomicInteger();
    IAuthorizatorPolicy policy =
        new IAuthorizatorPolicy() {
          @Override
          public boolean canWrite(Topic topic, String user, String client) {
            return true;
          }

          @Override
          public boolean canRead(Topic topic, String user, String client) {
            return !topic.toString().equals(MqttLink.FILTER) || asked.incrementAndGet() > 2;
          }
        };
    AtomicInteger subscribed = new AtomicInteger();
    CountDownLatch granted = new CountDownLatch(1);
    BlockingQueue<String> inbox = new LinkedBlockingQueue<>();
    try (TestBroker broker = new TestBroker(policy)) {
      MqttLink link =
          new MqttLink(
              broker.url(),
              "hub-link-test",
              (topic, payload) ->
                  inbox.add(topic + " " + new String(payload, StandardCharsets.UTF_8)),
              () -> {
                subscribed.incrementAndGet();
                granted.countDown();
              });
      link.start();
      try {
        assertTrue(granted.await(20, TimeUnit.SECONDS), "never subscribed; asked " + asked);
        assertEquals(3, asked.get(), "two refusals, then the grant");
        // Only the granted subscription counts: the hub announces queued work once, after it.
        assertEquals(1, subscribed.get());

        MqttClient device =
            new MqttClient(broker.url(), "device-link-test", new MemoryPersistence());
        device.connect();
        try {
          device.publish(
              "$aws/things/t1/jobs/get", "{}".getBytes(StandardCharsets.UTF_8), 1, false);
          assertEquals("$aws/things/t1/jobs/get {}", inbox.poll(10, TimeUnit.SECONDS));
        } finally {
          device.disconnect();
          device.close();
        }
      } finally {
        link.close();
      }
    }
  }

  @Test
  void onlyOneGrantedQosThatIsNotTheFailureCodeIsAGrant() {
    assertFalse(MqttLink.refused(new int[] {1}));
    assertFalse(MqttLink.refused(new int[] {0}));
    assertTrue(MqttLink.refused(new int[] {0x80}));
    assertTrue(MqttLink.refused(new int[0]));
    assertTrue(MqttLink.refused(null));
  }
}
