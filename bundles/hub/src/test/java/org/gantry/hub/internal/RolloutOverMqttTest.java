package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.StartNextAccepted;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iot.IotClient;
import software.amazon.awssdk.services.iot.model.InvalidStateTransitionException;
import software.amazon.awssdk.services.iot.model.JobExecutionStatus;
import software.amazon.awssdk.services.iot.model.JobStatus;

/**
 * Rollouts, timeouts, groups and cancels as raw MQTT devices meet them: Moquette on loopback, the
 * hub component on a manual clock, jobs and groups made with the AWS SDK. The hub re-reads the
 * clock on its own (every 200 ms), so moving the clock is all a test does to let minutes pass.
 */
class RolloutOverMqttTest {
  private static final String DOC = "{\"operation\":\"diagnostics\"}";
  private static final long WAIT = 10;
  private static final long MINUTE = 60_000;

  @TempDir Path dir;
  private final ManualClock clock = new ManualClock(1_700_000_000_000L);
  private TestBroker broker;
  private HubComponent hub;
  private IotClient iot;
  private final List<DeviceClient> devices = new ArrayList<>();

  @BeforeEach
  void start() throws Exception {
    broker = new TestBroker();
    hub =
        new HubComponent(
            new HubSettings(
                broker.url(),
                "gantry-hub",
                "127.0.0.1",
                TestBroker.freePort(),
                dir,
                new Arns("us-east-1", "123456789012")),
            clock);
    iot = Iot.client(hub.apiPort());
    for (int i = 1; i <= 3; i++) {
      devices.add(new DeviceClient(broker.url(), "gw-" + i));
    }
    awaitHubAnswers(devices.get(0));
  }

  @AfterEach
  void stop() throws Exception {
    for (DeviceClient d : devices) {
      d.close();
    }
    iot.close();
    hub.stop();
    broker.close();
  }

  @Test
  void theRolloutHoldsExecutionsBackUntilTheClockReleasesThem() throws Exception {
    iot.createJob(
        b ->
            b.jobId("j1")
                .targets("gw-1", "gw-2", "gw-3")
                .document(DOC)
                .jobExecutionsRolloutConfig(r -> r.maximumPerMinute(1)));
    assertEquals("j1", next(devices.get(0)).execution().jobId());
    DeviceClient second = devices.get(1);
    second.publish(second.topics.getPending(), "{\"clientToken\":\"a\"}");
    assertEquals(
        "{\"inProgressJobs\":[],\"queuedJobs\":[]",
        new String(second.await(JobsTopics.accepted(second.topics.getPending()), WAIT).payload())
            .replaceAll(",\"timestamp.*", ""),
        "not delivered yet");
    assertEquals(
        JobExecutionStatus.QUEUED,
        iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-2")).execution().status());

    clock.advance(MINUTE);

    assertEquals("j1", next(second).execution().jobId());
    clock.advance(MINUTE);
    assertEquals("j1", next(devices.get(2)).execution().jobId());
  }

  @Test
  void aStepTimeoutEndsTheExecutionAndTellsTheDevice() throws Exception {
    DeviceClient d = devices.get(0);
    iot.createJob(
        b ->
            b.jobId("j1")
                .targets("gw-1")
                .document(DOC)
                .timeoutConfig(t -> t.inProgressTimeoutInMinutes(30L)));
    next(d);
    d.publish(d.topics.startNext(), "{\"stepTimeoutInMinutes\":2}");
    d.await(JobsTopics.accepted(d.topics.startNext()), StartNextAccepted.class, WAIT);

    clock.advance(2 * MINUTE);

    assertNull(next(d).execution(), "TIMED_OUT: the queue is empty");
    assertEquals(
        JobExecutionStatus.TIMED_OUT,
        iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-1")).execution().status());
    assertEquals(JobStatus.COMPLETED, iot.describeJob(b -> b.jobId("j1")).job().status());
  }

  @Test
  void groupsContinuousJobsAndCancelsThroughTheSdk() throws Exception {
    iot.createThingGroup(b -> b.thingGroupName("site"));
    iot.createThingGroup(b -> b.thingGroupName("line").parentGroupName("site"));
    for (int i = 1; i <= 3; i++) {
      String name = "gw-" + i;
      iot.createThing(b -> b.thingName(name));
    }
    iot.addThingToThingGroup(b -> b.thingGroupName("line").thingName("gw-1"));
    String arn = iot.describeThingGroup(b -> b.thingGroupName("site")).thingGroupArn();
    iot.createJob(
        b ->
            b.jobId("cont")
                .targets(arn)
                .document(DOC)
                .targetSelection(
                    software.amazon.awssdk.services.iot.model.TargetSelection.CONTINUOUS));
    assertEquals("cont", next(devices.get(0)).execution().jobId());

    iot.addThingToThingGroup(b -> b.thingGroupName("line").thingName("gw-2"));
    assertEquals("cont", next(devices.get(1)).execution().jobId());

    DeviceClient d = devices.get(0);
    d.publish(d.topics.startNext(), "{}");
    d.await(JobsTopics.accepted(d.topics.startNext()), StartNextAccepted.class, WAIT);
    assertThrows(
        InvalidStateTransitionException.class,
        () -> iot.cancelJobExecution(b -> b.jobId("cont").thingName("gw-1")));
    iot.cancelJob(b -> b.jobId("cont").force(true).comment("stop"));
    assertNull(next(d).execution());
    assertNull(next(devices.get(1)).execution());
    var job = iot.describeJob(b -> b.jobId("cont")).job();
    assertEquals(JobStatus.CANCELED, job.status());
    assertEquals(true, job.forceCanceled());
    assertEquals(2, job.jobProcessDetails().numberOfCanceledThings());
    iot.deleteJob(b -> b.jobId("cont"));
    assertThrows(
        software.amazon.awssdk.services.iot.model.ResourceNotFoundException.class,
        () -> iot.describeJob(b -> b.jobId("cont")));
  }

  private static NotifyNext next(DeviceClient d) throws Exception {
    return d.await(d.topics.notifyNext(), NotifyNext.class, WAIT);
  }

  /** The hub subscribes after it connects: ask until it answers. */
  private static void awaitHubAnswers(DeviceClient device) throws Exception {
    JobsTopics t = device.topics;
    long deadline = System.nanoTime() + WAIT * 1_000_000_000L;
    while (true) {
      device.publish(t.getPending(), "{\"clientToken\":\"ping\"}");
      try {
        device.await(JobsTopics.accepted(t.getPending()), 1);
        device.clear();
        return;
      } catch (AssertionError e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
    }
  }
}
