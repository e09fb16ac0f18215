package org.gantry.itests.acl;

import static org.gantry.itests.support.TestJobsService.patience;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertTrue;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import javax.inject.Inject;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.itests.hub.HubApi;
import org.gantry.itests.hub.HubFramework;
import org.gantry.itests.support.GatewayConfig;
import org.gantry.itests.support.GatewayFramework;
import org.junit.Test;
import org.junit.runner.RunWith;
import org.ops4j.pax.exam.Configuration;
import org.ops4j.pax.exam.Option;
import org.ops4j.pax.exam.junit.PaxExam;
import org.ops4j.pax.exam.spi.reactors.ExamReactorStrategy;
import org.ops4j.pax.exam.spi.reactors.PerClass;
import org.osgi.framework.BundleContext;
import org.osgi.service.cm.ConfigurationAdmin;

/**
 * Issue 8 end to end in one Felix framework: the hub's embedded broker with a mutual-TLS listener
 * and the ACL file the hub writes from its thing principals (AttachThingPrincipal), the hub on the
 * plain listener as {@code plain.principal=gantry-hub}, a real gateway (transport over TLS with
 * certificate gw-a, engine serving thing-a) running a diagnostics job, and an intruder with
 * certificate gw-b that can neither see thing-a's job nor update it.
 */
@RunWith(PaxExam.class)
@ExamReactorStrategy(PerClass.class)
public class AclGatewayIT {

  private static final String RUN = UUID.randomUUID().toString().substring(0, 8);
  private static final int REFUSED = 0x80;

  @Inject private BundleContext context;
  @Inject private ConfigurationAdmin configAdmin;

  @Configuration
  public Option[] configuration() {
    return HubFramework.options(List.of("gantry-hub", "gantry-gateway", "gantry-op-diagnostics"));
  }

  @Test
  public void aGatewayOverTlsRunsItsJobWhileAnotherCertificateCannotSeeOrUpdateIt()
      throws Exception {
    Path work =
        Files.createDirectories(
            Path.of(System.getProperty(GatewayFramework.WORK_DIR)).resolve("acl-" + RUN));
    KeytoolPki pki = KeytoolPki.create(work.resolve("pki"));
    Path brokerStore = pki.issue("broker");
    Path gwA = pki.issue("gw-a");
    Path gwB = pki.issue("gw-b");
    String thingA = "acl-a-" + RUN;
    String thingB = "acl-b-" + RUN;
    // The hub writes the broker's ACL file from its thing principals; the broker reads it.
    Path acl = work.resolve("broker.acl");

    int brokerPort = Integer.parseInt(context.getProperty(HubFramework.BROKER_PORT));
    int apiPort = Integer.parseInt(context.getProperty(HubFramework.API_PORT));
    int tlsPort = freePort();
    Dictionary<String, Object> broker = new Hashtable<>();
    broker.put("host", "127.0.0.1");
    broker.put("port", brokerPort);
    broker.put("plain.principal", "gantry-hub");
    broker.put("tls.port", tlsPort);
    broker.put("tls.keystore.file", brokerStore.toString());
    broker.put("tls.keystore.password", pki.password());
    broker.put("tls.ca.file", pki.caPem().toString());
    broker.put("acl.file", acl.toString());
    configAdmin.getConfiguration("org.gantry.broker", "?").update(broker);

    Dictionary<String, Object> hub = new Hashtable<>();
    hub.put("mqtt.url", "tcp://127.0.0.1:" + brokerPort);
    hub.put("client.id", "itest-hub");
    hub.put("api.host", "127.0.0.1");
    hub.put("api.port", apiPort);
    hub.put("data.dir", Files.createDirectories(work.resolve("hub")).toString());
    hub.put("acl.file", acl.toString());
    configAdmin.getConfiguration("org.gantry.hub", "?").update(hub);
    HubApi api = new HubApi(URI.create("http://127.0.0.1:" + apiPort));
    api.awaitUp(patience());
    String arnA = api.createThing(thingA).get("thingArn").getAsString();
    api.createThing(thingB);
    api.attachThingPrincipal(thingA, "gw-a");
    api.attachThingPrincipal(thingB, "gw-b");

    // the intruder, gw-b, tries to watch thing-a's jobs before there are any
    String tlsUrl = "ssl://127.0.0.1:" + tlsPort;
    BlockingQueue<String> intruderInbox = new LinkedBlockingQueue<>();
    MqttClient intruder = connect(tlsUrl, pki.sockets(gwB), "intruder-" + RUN, intruderInbox);
    try {
      // the broker reads the hub's file within a second or so of each change
      awaitGranted(intruder, "$aws/things/" + thingB + "/jobs/#", true);
      assertEquals(1, subscribe(intruder, "$aws/things/" + thingB + "/jobs/#"));
      assertEquals(REFUSED, subscribe(intruder, "$aws/things/" + thingA + "/jobs/#"));
      assertEquals(REFUSED, subscribe(intruder, "$aws/things/+/jobs/#"));

      // the gateway: transport over TLS as gw-a, engine serving thing-a
      Dictionary<String, Object> transport = new Hashtable<>();
      transport.put("broker.url", tlsUrl);
      transport.put("client.id", thingA);
      transport.put("tls.ca.file", pki.caPem().toString());
      transport.put("tls.pkcs12.file", gwA.toString());
      transport.put(".tls.pkcs12.password", pki.password());
      configAdmin.getConfiguration(GatewayConfig.TRANSPORT_PID, "?").update(transport);
      Dictionary<String, Object> engine = new Hashtable<>();
      engine.put("thing.name", thingA);
      engine.put("data.dir", GatewayConfig.dataDir(thingA).toString());
      engine.put("request.timeout.seconds", 5);
      engine.put("poll.interval.seconds", 300);
      configAdmin.getConfiguration(GatewayConfig.ENGINE_PID, "?").update(engine);

      api.createJob("acl-diag-1", List.of(arnA), "{\"operation\":\"diagnostics\"}");
      // the intruder tries to fail it and to take the next job of thing-a
      publish(
          intruder,
          "$aws/things/" + thingA + "/jobs/acl-diag-1/update",
          "{\"status\":\"FAILED\",\"clientToken\":\"intruder\"}");
      publish(intruder, "$aws/things/" + thingA + "/jobs/start-next", "{\"clientToken\":\"x\"}");

      JsonObject done = api.awaitExecution(thingA, "acl-diag-1", "SUCCEEDED", patience());
      assertEquals(arnA, done.get("thingArn").getAsString());
      assertTrue(done.toString(), done.has("startedAt"));

      // The intruder's own thing still works for it, and nothing of thing-a ever reached it: the
      // hub answers on the connection that also carried thing-a's notifications, in order, so
      // anything of thing-a delivered to gw-b would arrive before this answer.
      publish(intruder, "$aws/things/" + thingB + "/jobs/get", "{\"clientToken\":\"b\"}");
      String answer = "$aws/things/" + thingB + "/jobs/get/accepted";
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (String m = ""; !m.startsWith(answer); ) {
        m = intruderInbox.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        assertNotNull("the hub's answer to gw-b's get never came", m);
        assertTrue("gw-b received " + m, m.startsWith("$aws/things/" + thingB + "/"));
      }

      // Attaching thing-a to gw-b at the hub lets gw-b in, without a restart; detaching shuts it
      // out again.
      String filterA = "$aws/things/" + thingA + "/jobs/notify-next";
      api.attachThingPrincipal(thingA, "gw-b");
      awaitGranted(intruder, filterA, true);
      intruder.unsubscribe(filterA);
      api.detachThingPrincipal(thingA, "gw-b");
      awaitGranted(intruder, filterA, false);
      assertTrue(
          Files.readString(acl).contains("user gw-a\ntopic readwrite $aws/things/" + thingA));
    } finally {
      if (intruder.isConnected()) {
        intruder.disconnectForcibly(100, 1000);
      }
      intruder.close();
    }
  }

  private static MqttClient connect(
      String url, SSLSocketFactory tls, String clientId, BlockingQueue<String> inbox)
      throws MqttException {
    MqttClient c = new MqttClient(url, clientId, new MemoryPersistence());
    c.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {
            inbox.add("(connection lost) " + cause);
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
    o.setConnectionTimeout(10);
    o.setSocketFactory(tls);
    c.setTimeToWait(10_000);
    c.connect(o);
    return c;
  }

  /**
   * Subscribes until the broker grants (or refuses) {@code filter}, for at most 15 s: the broker
   * checks the ACL file about once a second.
   */
  private static void awaitGranted(MqttClient c, String filter, boolean granted)
      throws MqttException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
    while (true) {
      int qos = subscribe(c, filter);
      if ((qos != REFUSED) == granted) {
        if (granted) {
          c.unsubscribe(filter);
        }
        return;
      }
      if (qos != REFUSED) {
        c.unsubscribe(filter);
      }
      assertTrue(
          filter + " was never " + (granted ? "granted" : "refused") + " to " + c.getClientId(),
          System.nanoTime() < deadline);
      Thread.sleep(200);
    }
  }

  private static int subscribe(MqttClient c, String filter) throws MqttException {
    try {
      return c.subscribeWithResponse(filter, 1).getGrantedQos()[0];
    } catch (MqttException e) {
      if (e.getReasonCode() == MqttException.REASON_CODE_SUBSCRIBE_FAILED) {
        return REFUSED;
      }
      throw e;
    }
  }

  private static void publish(MqttClient c, String topic, String text) throws MqttException {
    c.publish(topic, text.getBytes(StandardCharsets.UTF_8), 1, false);
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }
}
