package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;
import org.gantry.protocol.DescribeAccepted;
import org.gantry.protocol.ErrorCode;
import org.gantry.protocol.ExecutionStatus;
import org.gantry.protocol.GetPendingAccepted;
import org.gantry.protocol.JobExecution;
import org.gantry.protocol.JobsTopics;
import org.gantry.protocol.NotifyNext;
import org.gantry.protocol.Rejected;
import org.gantry.protocol.StartNextAccepted;
import org.gantry.protocol.UpdateAccepted;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iot.IotClient;
import software.amazon.awssdk.services.iot.model.JobExecutionStatus;
import software.amazon.awssdk.services.iot.model.JobStatus;

/**
 * The hub as a gateway meets it: Moquette on loopback, the hub connected to it as an ordinary
 * client, a Paho client speaking the device protocol by hand, and jobs created with the AWS SDK.
 */
class HubOverMqttTest {
  private static final String DOC = "{\"operation\":\"diagnostics\"}";
  private static final long WAIT = 10;

  @TempDir Path dir;
  private TestBroker broker;
  private HubComponent hub;
  private IotClient iot;
  private DeviceClient device;
  private int apiPort;

  @BeforeEach
  void start() throws Exception {
    broker = new TestBroker();
    apiPort = TestBroker.freePort();
    hub = startHub();
    iot = Iot.client(apiPort);
    device = new DeviceClient(broker.url(), "gw-1");
    awaitHubAnswers();
  }

  private HubComponent startHub() {
    return new HubComponent(
        new HubSettings(
            broker.url(),
            "gantry-hub",
            "127.0.0.1",
            apiPort,
            dir,
            new Arns("us-east-1", "123456789012")),
        java.time.Clock.systemUTC());
  }

  /** The hub subscribes after it connects: ask until it answers. */
  private void awaitHubAnswers() throws Exception {
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

  @AfterEach
  void stop() throws Exception {
    device.close();
    iot.close();
    if (hub != null) {
      hub.stop();
    }
    broker.close();
  }

  @Test
  void aJobTravelsFromTheSdkToTheDeviceAndBack() throws Exception {
    JobsTopics t = device.topics;
    iot.createJob(b -> b.jobId("j1").targets("gw-1").document(DOC));

    NotifyNext next = device.await(t.notifyNext(), NotifyNext.class, WAIT);
    assertEquals("j1", next.execution().jobId());
    assertEquals(DOC, next.execution().jobDocument());

    device.publish(
        t.startNext(), "{\"statusDetails\":{\"step\":\"starting\"},\"clientToken\":\"c2\"}");
    JobExecution started =
        device.await(JobsTopics.accepted(t.startNext()), StartNextAccepted.class, WAIT).execution();
    assertEquals(ExecutionStatus.IN_PROGRESS, started.status());
    assertEquals(2, started.versionNumber());

    device.publish(
        t.update("j1"),
        "{\"status\":\"SUCCEEDED\",\"statusDetails\":{\"reason\":\"OK\"},\"expectedVersion\":2,"
            + "\"includeJobExecutionState\":true,\"clientToken\":\"c4\"}");
    UpdateAccepted done =
        device.await(JobsTopics.accepted(t.update("j1")), UpdateAccepted.class, WAIT);
    assertEquals(ExecutionStatus.SUCCEEDED, done.executionState().status());
    assertEquals(3, done.executionState().versionNumber());
    assertEquals("c4", done.clientToken());
    assertNull(device.await(t.notifyNext(), NotifyNext.class, WAIT).execution());

    var x = iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-1")).execution();
    assertEquals(JobExecutionStatus.SUCCEEDED, x.status());
    assertEquals(Map.of("reason", "OK"), x.statusDetails().detailsMap());
    assertEquals(JobStatus.COMPLETED, iot.describeJob(b -> b.jobId("j1")).job().status());
  }

  @Test
  void anUploadedArtifactReachesTheDeviceThroughAPresignedUrl() throws Exception {
    byte[] image = "image 3.1".getBytes(StandardCharsets.UTF_8);
    HttpClient http = HttpClient.newHttpClient();
    var put =
        http.send(
            HttpRequest.newBuilder(
                    URI.create("http://127.0.0.1:" + apiPort + "/artifacts/fw-bucket/app-3.1.bin"))
                .PUT(HttpRequest.BodyPublishers.ofByteArray(image))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, put.statusCode(), put.body());

    String doc =
        "{\"operation\":\"download-file\",\"url\":\"${aws:iot:s3-presigned-url:"
            + "https://s3.us-east-1.amazonaws.com/fw-bucket/app-3.1.bin}\"}";
    iot.createJob(
        b ->
            b.jobId("fw")
                .targets("gw-1")
                .document(doc)
                .presignedUrlConfig(p -> p.expiresInSec(600L)));
    NotifyNext next = device.await(device.topics.notifyNext(), NotifyNext.class, WAIT);
    var m = Pattern.compile("\"url\":\"([^\"]+)\"").matcher(next.execution().jobDocument());
    assertTrue(m.find(), next.execution().jobDocument());
    assertTrue(m.group(1).startsWith("http://127.0.0.1:" + hub.artifactsPort() + "/artifacts/"));
    var got =
        http.send(
            HttpRequest.newBuilder(URI.create(m.group(1))).build(),
            HttpResponse.BodyHandlers.ofByteArray());
    assertEquals(200, got.statusCode());
    assertArrayEquals(image, got.body());
    assertEquals(
        600L,
        iot.describeJob(b -> b.jobId("fw")).job().presignedUrlConfig().expiresInSec().longValue());
  }

  @Test
  void theDeviceApiErrorsTravelOverMqtt() throws Exception {
    JobsTopics t = device.topics;
    iot.createJob(b -> b.jobId("j1").targets("gw-1").document(DOC));
    device.publish(t.update("j1"), "{\"status\":\"IN_PROGRESS\"}");
    device.await(JobsTopics.accepted(t.update("j1")), WAIT);

    device.publish(t.update("j1"), "{\"status\":\"SUCCEEDED\",\"expectedVersion\":1}");
    Rejected stale = device.await(JobsTopics.rejected(t.update("j1")), Rejected.class, WAIT);
    assertEquals(ErrorCode.VERSION_MISMATCH, stale.code());
    assertEquals(ExecutionStatus.IN_PROGRESS, stale.executionState().status());
    assertEquals(2, stale.executionState().versionNumber());

    device.publish(t.update("j1"), "{\"status\":\"FAILED\",\"expectedVersion\":2}");
    device.await(JobsTopics.accepted(t.update("j1")), WAIT);
    device.publish(t.update("j1"), "{\"status\":\"SUCCEEDED\"}");
    Rejected over = device.await(JobsTopics.rejected(t.update("j1")), Rejected.class, WAIT);
    assertEquals(ErrorCode.INVALID_STATE_TRANSITION, over.code());
    assertEquals(ExecutionStatus.FAILED, over.executionState().status());

    device.publish(t.describe("j1"), "{}");
    assertEquals(
        ErrorCode.TERMINAL_STATE_REACHED,
        device.await(JobsTopics.rejected(t.describe("j1")), Rejected.class, WAIT).code());

    String badId = "$aws/things/gw-1/jobs/bad.id/get";
    device.publish(badId, "{}");
    assertEquals(
        ErrorCode.INVALID_REQUEST, device.await(badId + "/rejected", Rejected.class, WAIT).code());
  }

  @Test
  void aHubRestartInTheMiddleOfAJobLosesNothing() throws Exception {
    JobsTopics t = device.topics;
    iot.createJob(b -> b.jobId("j1").targets("gw-1").document(DOC));
    device.publish(t.startNext(), "{}");
    assertEquals(
        2,
        device
            .await(JobsTopics.accepted(t.startNext()), StartNextAccepted.class, WAIT)
            .execution()
            .versionNumber());

    hub.stop();
    iot.close();
    // The gateway reports while the hub is down; the broker keeps the request for the hub's
    // persistent session.
    device.publish(
        t.update("j1"),
        "{\"status\":\"SUCCEEDED\",\"expectedVersion\":2,\"includeJobExecutionState\":true,"
            + "\"clientToken\":\"late\"}");
    hub = startHub();
    iot = Iot.client(apiPort);

    UpdateAccepted a =
        device.await(JobsTopics.accepted(t.update("j1")), UpdateAccepted.class, WAIT);
    assertEquals("late", a.clientToken());
    assertEquals(ExecutionStatus.SUCCEEDED, a.executionState().status());
    assertEquals(3, a.executionState().versionNumber());
    assertEquals(
        JobExecutionStatus.SUCCEEDED,
        iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-1")).execution().status());

    // A job queued after the restart reaches the device as usual.
    iot.createJob(b -> b.jobId("j2").targets("gw-1").document(DOC));
    device.publish(t.describe(JobsTopics.NEXT), "{}");
    DescribeAccepted head =
        device.await(
            JobsTopics.accepted(t.describe(JobsTopics.NEXT)), DescribeAccepted.class, WAIT);
    assertEquals("j2", head.execution().jobId());
    device.publish(t.getPending(), "{}");
    GetPendingAccepted pending =
        device.await(JobsTopics.accepted(t.getPending()), GetPendingAccepted.class, WAIT);
    assertEquals(1, pending.queuedJobs().size());
  }

  @Test
  void afterReconnectingTheHubAnnouncesEachQueueHeadAgain() throws Exception {
    JobsTopics t = device.topics;
    iot.createJob(b -> b.jobId("j1").targets("gw-1").document(DOC));
    device.await(t.notifyNext(), WAIT);

    hub.stop();
    hub = startHub();

    NotifyNext again = device.await(t.notifyNext(), NotifyNext.class, WAIT);
    assertEquals("j1", again.execution().jobId());
  }
}
