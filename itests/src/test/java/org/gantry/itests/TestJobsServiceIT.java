package org.gantry.itests;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertNotNull;
import static org.junit.Assert.assertNull;
import static org.junit.Assert.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.gantry.itests.support.NoDelaySocketFactory;
import org.gantry.itests.support.TestBroker;
import org.gantry.itests.support.TestJobsService;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.DescribeRequest;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.GetPendingAccepted;
import org.gantry.protocol.GetPendingRequest;
import org.gantry.protocol.JobsCodec;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.Notify;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.StartNextAccepted;
import org.gantry.protocol.StartNextRequest;
import org.gantry.protocol.UpdateAccepted;
import org.gantry.protocol.UpdateRequest;
import org.junit.After;
import org.junit.Before;
import org.junit.Test;

/**
 * The test jobs service against a hand-driven device client, so that the gateway tests stand on a
 * service that answers as PROTOCOL.md says. Runs in the plain failsafe JVM with its own broker.
 */
public class TestJobsServiceIT {

  private static final String THING = "svc-thing";
  private static final long WAIT_SECONDS = 10;

  private final JobsCodec codec = new JobsCodec();
  private final JobsTopics topics = new JobsTopics(THING);
  private final BlockingQueue<Message> inbox = new LinkedBlockingQueue<>();
  private final List<String> received = new java.util.concurrent.CopyOnWriteArrayList<>();
  private TestBroker broker;
  private TestJobsService service;
  private MqttClient device;

  private record Message(String topic, byte[] payload) {}

  @Before
  public void start() throws Exception {
    // The shared broker: stopping one costs Moquette's 2 s netty quiet period.
    broker = TestBroker.shared();
    service = TestJobsService.start(broker.url());
    device = new MqttClient(broker.url(), THING, new MemoryPersistence());
    MqttConnectOptions options = new MqttConnectOptions();
    options.setCleanSession(true);
    options.setConnectionTimeout(10);
    device.connect(options);
    device.setCallback(
        new MqttCallback() {
          @Override
          public void connectionLost(Throwable cause) {}

          @Override
          public void messageArrived(String topic, MqttMessage m) {
            received.add(topic);
            inbox.add(new Message(topic, m.getPayload()));
          }

          @Override
          public void deliveryComplete(IMqttDeliveryToken token) {}
        });
    for (String filter : topics.deviceSubscriptions()) {
      device.subscribe(filter, 1);
    }
  }

  @After
  public void stop() throws Exception {
    try {
      if (device != null) {
        if (device.isConnected()) {
          device.disconnect(2000);
        }
        device.close(true);
      }
    } finally {
      if (service != null) {
        service.close();
      }
    }
  }

  @Test
  public void executionGoesThroughItsLifeAsTheProtocolSays() throws Exception {
    service.queue(THING, "j1", "{\"operation\":\"diagnostics\"}");
    NotifyNext next = codec.decode(await(topics.notifyNext()).payload(), NotifyNext.class);
    assertEquals("j1", next.execution().jobId());
    assertEquals("{\"operation\":\"diagnostics\"}", next.execution().jobDocument());
    Notify notify = codec.decode(await(topics.notifyTopic()).payload(), Notify.class);
    assertEquals("j1", notify.jobs().get(ExecutionStatus.QUEUED).get(0).jobId());

    GetPendingAccepted pending =
        accepted(topics.getPending(), new GetPendingRequest("t1"), GetPendingAccepted.class);
    assertEquals("t1", pending.clientToken());
    assertEquals(List.of(), pending.inProgressJobs());
    assertEquals("j1", pending.queuedJobs().get(0).jobId());

    StartNextAccepted started =
        accepted(
            topics.startNext(),
            new StartNextRequest(Map.of("step", "starting"), 5L, "t2"),
            StartNextAccepted.class);
    assertEquals(ExecutionStatus.IN_PROGRESS, started.execution().status());
    assertEquals(2, started.execution().versionNumber());
    assertEquals(Map.of("step", "starting"), started.execution().statusDetails());

    Rejected stale =
        rejected(
            topics.update("j1"),
            new UpdateRequest(ExecutionStatus.SUCCEEDED, null, 1L, null, true, null, null, "t3"));
    assertEquals(ErrorCode.VERSION_MISMATCH, stale.code());
    assertEquals("t3", stale.clientToken());
    assertEquals(2, stale.executionState().versionNumber());
    assertEquals(ExecutionStatus.IN_PROGRESS, stale.executionState().status());

    UpdateAccepted done =
        accepted(
            topics.update("j1"),
            new UpdateRequest(
                ExecutionStatus.SUCCEEDED, Map.of("ok", "yes"), 2L, 1L, true, null, null, "t4"),
            UpdateAccepted.class);
    assertEquals(3, done.executionState().versionNumber());
    assertNull(codec.decode(await(topics.notifyNext()).payload(), NotifyNext.class).execution());

    Rejected again =
        rejected(
            topics.update("j1"),
            new UpdateRequest(ExecutionStatus.FAILED, null, 3L, null, null, null, null, "t5"));
    assertEquals(ErrorCode.INVALID_STATE_TRANSITION, again.code());
    assertEquals(ExecutionStatus.SUCCEEDED, again.executionState().status());

    assertEquals(
        ErrorCode.TERMINAL_STATE_REACHED,
        rejected(topics.describe("j1"), new DescribeRequest(null, null, "t6")).code());
    assertEquals(
        ErrorCode.RESOURCE_NOT_FOUND,
        rejected(topics.describe("nope"), new DescribeRequest(null, null, "t7")).code());
    assertEquals(
        ErrorCode.RESOURCE_NOT_FOUND,
        rejected(topics.describe(JobsTopics.NEXT), new DescribeRequest(null, true, "t8")).code());
    assertNull(
        accepted(
                topics.startNext(), new StartNextRequest(null, null, "t9"), StartNextAccepted.class)
            .execution());

    TestJobsService.Execution j1 = service.execution(THING, "j1").orElseThrow();
    assertEquals(
        List.of(ExecutionStatus.QUEUED, ExecutionStatus.IN_PROGRESS, ExecutionStatus.SUCCEEDED),
        j1.history());
    assertEquals(Map.of("ok", "yes"), j1.statusDetails());
  }

  @Test
  public void answersAndNotificationsKeepTheirOrderThroughTheBacklog() throws Exception {
    service.close();
    // One unacknowledged answer at a time: nearly everything waits in the backlog.
    service = TestJobsService.start(broker.url(), new NoDelaySocketFactory(), 1);
    int jobs = 12; // fewer than the 15 a notify lists
    for (int i = 1; i <= jobs; i++) {
      service.queue(THING, "b" + i, "{\"operation\":\"diagnostics\"}");
    }
    publish(topics.describe(JobsTopics.NEXT), new DescribeRequest(null, false, "b-next"));
    List<Integer> listed = new java.util.ArrayList<>();
    while (true) {
      Message m = inbox.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertNotNull("the answer to the describe never came; notify listed " + listed, m);
      if (m.topic().equals(topics.notifyTopic())) {
        listed.add(
            codec.decode(m.payload(), Notify.class).jobs().get(ExecutionStatus.QUEUED).size());
      } else if (m.topic().equals(JobsTopics.accepted(topics.describe(JobsTopics.NEXT)))) {
        assertEquals("b1", codec.decode(m.payload(), DescribeAccepted.class).execution().jobId());
        break;
      }
    }
    // every notify, in the order of the changes, and the answer after them
    assertEquals(java.util.stream.IntStream.rangeClosed(1, jobs).boxed().toList(), listed);
  }

  @Test
  public void withoutNotifyOnlyNotifyNextFollowsAChangeOfTheQueue() throws Exception {
    service.publishNotify(false);
    service.queue(THING, "q1", "{\"operation\":\"diagnostics\"}");
    assertEquals(
        "q1",
        codec.decode(await(topics.notifyNext()).payload(), NotifyNext.class).execution().jobId());
    accepted(
        topics.update("q1"),
        new UpdateRequest(ExecutionStatus.SUCCEEDED, null, 1L, null, null, null, null, "q-done"),
        UpdateAccepted.class);
    assertNull(codec.decode(await(topics.notifyNext()).payload(), NotifyNext.class).execution());
    service.publishNotify(true);
    service.queue(THING, "q2", "{\"operation\":\"diagnostics\"}");
    await(topics.notifyTopic()); // on again: everything before it has arrived
    assertEquals(
        "only the last change, after notify was on again, was notified",
        1,
        received.stream().filter(t -> t.equals(topics.notifyTopic())).count());
  }

  @Test
  public void describeOfNextCarriesTheDocumentAndBadJobIdsAreRefused() throws Exception {
    service.queue(THING, "j2", "{\"operation\":\"x\",\"n\":1}");
    DescribeAccepted head =
        accepted(
            topics.describe(JobsTopics.NEXT),
            new DescribeRequest(null, true, "d1"),
            DescribeAccepted.class);
    assertEquals("j2", head.execution().jobId());
    assertEquals("{\"operation\":\"x\",\"n\":1}", head.execution().jobDocument());
    assertEquals(ExecutionStatus.QUEUED, head.execution().status());

    String badTopic = "$aws/things/" + THING + "/jobs/bad.id/update";
    device.publish(
        badTopic,
        "{\"status\":\"SUCCEEDED\",\"clientToken\":\"d2\"}".getBytes(StandardCharsets.UTF_8),
        1,
        false);
    Rejected bad = codec.decode(await(badTopic + "/rejected").payload(), Rejected.class);
    assertEquals(ErrorCode.INVALID_REQUEST, bad.code());
    assertEquals("d2", bad.clientToken());

    service.cancel(THING, "j2");
    NotifyNext afterCancel = null;
    while (afterCancel == null || afterCancel.execution() != null) {
      afterCancel = codec.decode(await(topics.notifyNext()).payload(), NotifyNext.class);
    }
    assertEquals(ExecutionStatus.CANCELED, service.execution(THING, "j2").orElseThrow().status());
  }

  private <T> T accepted(String topic, Object request, Class<T> type) throws Exception {
    publish(topic, request);
    Message m = awaitAnswer(topic);
    assertTrue(
        "expected " + topic + "/accepted, got " + m.topic() + " " + text(m),
        m.topic().endsWith("/accepted"));
    return codec.decode(m.payload(), type);
  }

  private Rejected rejected(String topic, Object request) throws Exception {
    publish(topic, request);
    Message m = awaitAnswer(topic);
    assertTrue(
        "expected " + topic + "/rejected, got " + m.topic() + " " + text(m),
        m.topic().endsWith("/rejected"));
    return codec.decode(m.payload(), Rejected.class);
  }

  private void publish(String topic, Object request) throws MqttException {
    device.publish(topic, codec.encode(request), 1, false);
  }

  private Message awaitAnswer(String requestTopic) throws InterruptedException {
    while (true) {
      Message m = inbox.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertNotNull("no answer on " + requestTopic + " within " + WAIT_SECONDS + " s", m);
      if (m.topic().equals(JobsTopics.accepted(requestTopic))
          || m.topic().equals(JobsTopics.rejected(requestTopic))) {
        return m;
      }
    }
  }

  private Message await(String topic) throws InterruptedException {
    while (true) {
      Message m = inbox.poll(WAIT_SECONDS, TimeUnit.SECONDS);
      assertNotNull("nothing on " + topic + " within " + WAIT_SECONDS + " s", m);
      if (m.topic().equals(topic)) {
        return m;
      }
    }
  }

  private static String text(Message m) {
    return new String(m.payload(), StandardCharsets.UTF_8);
  }
}
