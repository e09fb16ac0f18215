package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iot.IotClient;
import software.amazon.awssdk.services.iot.model.AttributePayload;
import software.amazon.awssdk.services.iot.model.CreateJobResponse;
import software.amazon.awssdk.services.iot.model.CreateThingResponse;
import software.amazon.awssdk.services.iot.model.DescribeJobExecutionResponse;
import software.amazon.awssdk.services.iot.model.InvalidRequestException;
import software.amazon.awssdk.services.iot.model.Job;
import software.amazon.awssdk.services.iot.model.JobExecutionStatus;
import software.amazon.awssdk.services.iot.model.JobExecutionSummaryForJob;
import software.amazon.awssdk.services.iot.model.JobStatus;
import software.amazon.awssdk.services.iot.model.ListJobExecutionsForJobResponse;
import software.amazon.awssdk.services.iot.model.ResourceAlreadyExistsException;
import software.amazon.awssdk.services.iot.model.ResourceNotFoundException;
import software.amazon.awssdk.services.iot.model.TargetSelection;

/** The management API driven by the AWS SDK for Java v2 IotClient with an endpoint override. */
class AwsSdkTest {
  private static final String ARN = "arn:aws:iot:us-east-1:123456789012:thing/";
  private static final String DOC = "{\"operation\":\"diagnostics\"}";

  @TempDir Path dir;
  private HubComponent hub;
  private IotClient iot;
  private long started;

  @BeforeEach
  void start() throws Exception {
    started = System.currentTimeMillis();
    // No broker: the management API works on its own; the hub keeps trying to connect meanwhile.
    hub = Iot.hubWithoutBroker(dir);
    iot = Iot.client(hub.apiPort());
  }

  @AfterEach
  void stop() {
    iot.close();
    hub.stop();
  }

  @Test
  void createThingIsIdempotentForTheSameAttributes() {
    CreateThingResponse t =
        iot.createThing(
            b ->
                b.thingName("gw-1")
                    .attributePayload(
                        AttributePayload.builder().attributes(Map.of("site", "plant-7")).build()));
    assertEquals("gw-1", t.thingName());
    assertEquals(ARN + "gw-1", t.thingArn());
    assertNotNull(t.thingId());

    CreateThingResponse again =
        iot.createThing(
            b ->
                b.thingName("gw-1")
                    .attributePayload(
                        AttributePayload.builder().attributes(Map.of("site", "plant-7")).build()));
    assertEquals(t.thingId(), again.thingId());

    ResourceAlreadyExistsException e =
        assertThrows(
            ResourceAlreadyExistsException.class, () -> iot.createThing(b -> b.thingName("gw-1")));
    assertEquals(409, e.statusCode());
    assertEquals(t.thingId(), e.resourceId());
    assertEquals(ARN + "gw-1", e.resourceArn());
  }

  @Test
  void aJobCanBeCreatedDescribedAndListed() {
    iot.createThing(b -> b.thingName("gw-1"));
    CreateJobResponse created =
        iot.createJob(
            b ->
                b.jobId("j1")
                    .targets(ARN + "gw-1", "gw-2")
                    .document(DOC)
                    .description("first job")
                    .targetSelection(TargetSelection.SNAPSHOT)
                    .timeoutConfig(t -> t.inProgressTimeoutInMinutes(30L)));
    assertEquals("j1", created.jobId());
    assertEquals("arn:aws:iot:us-east-1:123456789012:job/j1", created.jobArn());
    assertEquals("first job", created.description());

    Job job = iot.describeJob(b -> b.jobId("j1")).job();
    assertEquals("j1", job.jobId());
    assertEquals(JobStatus.IN_PROGRESS, job.status());
    assertEquals(TargetSelection.SNAPSHOT, job.targetSelection());
    assertEquals(List.of(ARN + "gw-1", ARN + "gw-2"), job.targets());
    assertEquals("first job", job.description());
    assertEquals(30L, job.timeoutConfig().inProgressTimeoutInMinutes());
    assertEquals(2, job.jobProcessDetails().numberOfQueuedThings());
    assertEquals(0, job.jobProcessDetails().numberOfSucceededThings());
    Instant createdAt = job.createdAt();
    assertTrue(
        !createdAt.isBefore(Instant.ofEpochMilli(started)) && !createdAt.isAfter(Instant.now()),
        createdAt.toString());
    assertNull(job.completedAt());

    assertEquals(DOC, iot.getJobDocument(b -> b.jobId("j1")).document());

    DescribeJobExecutionResponse x = iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-2"));
    assertEquals(JobExecutionStatus.QUEUED, x.execution().status());
    assertEquals(ARN + "gw-2", x.execution().thingArn());
    assertEquals(1L, x.execution().executionNumber());
    assertEquals(1L, x.execution().versionNumber());
    assertEquals(Map.of(), x.execution().statusDetails().detailsMap());
    assertEquals(
        JobExecutionStatus.QUEUED,
        iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-2").executionNumber(1L))
            .execution()
            .status());

    ListJobExecutionsForJobResponse page1 =
        iot.listJobExecutionsForJob(b -> b.jobId("j1").maxResults(1));
    assertEquals(1, page1.executionSummaries().size());
    assertEquals(ARN + "gw-1", page1.executionSummaries().get(0).thingArn());
    assertNotNull(page1.nextToken());
    ListJobExecutionsForJobResponse page2 =
        iot.listJobExecutionsForJob(b -> b.jobId("j1").maxResults(1).nextToken(page1.nextToken()));
    JobExecutionSummaryForJob s = page2.executionSummaries().get(0);
    assertEquals(ARN + "gw-2", s.thingArn());
    assertEquals(JobExecutionStatus.QUEUED, s.jobExecutionSummary().status());
    assertEquals(1L, s.jobExecutionSummary().executionNumber());
    assertNull(page2.nextToken());
    assertEquals(
        0,
        iot.listJobExecutionsForJob(b -> b.jobId("j1").status(JobExecutionStatus.SUCCEEDED))
            .executionSummaries()
            .size());
  }

  @Test
  void errorsArriveAsTheSdksExceptions() {
    iot.createJob(b -> b.jobId("j1").targets("gw-1").document(DOC));

    ResourceAlreadyExistsException dup =
        assertThrows(
            ResourceAlreadyExistsException.class,
            () -> iot.createJob(b -> b.jobId("j1").targets("gw-1").document(DOC)));
    assertEquals("j1", dup.resourceId());

    InvalidRequestException notJson =
        assertThrows(
            InvalidRequestException.class,
            () -> iot.createJob(b -> b.jobId("j2").targets("gw-1").document("{not json")));
    assertEquals(400, notJson.statusCode());
    assertTrue(notJson.getMessage().contains("document"), notJson.getMessage());
    assertThrows(
        InvalidRequestException.class,
        () -> iot.createJob(b -> b.jobId("j3").targets("gw-1").document("[1]")));
    assertThrows(
        InvalidRequestException.class,
        () ->
            iot.createJob(
                b ->
                    b.jobId("j4")
                        .targets("gw-1")
                        .document("{\"x\":\"" + "y".repeat(32_768) + "\"}")));
    assertThrows(
        ResourceNotFoundException.class,
        () ->
            iot.createJob(
                b ->
                    b.jobId("j5")
                        .targets("arn:aws:iot:us-east-1:123456789012:thinggroup/all")
                        .document(DOC)),
        "a thing group that does not exist");
    assertThrows(
        InvalidRequestException.class,
        () -> iot.createJob(b -> b.jobId("j6").targets("bad thing").document(DOC)));
    assertThrows(
        InvalidRequestException.class,
        () ->
            iot.createJob(
                b ->
                    b.jobId("j7")
                        .targets("gw-1")
                        .document(DOC)
                        .targetSelection(TargetSelection.CONTINUOUS)));
    InvalidRequestException rollout =
        assertThrows(
            InvalidRequestException.class,
            () ->
                iot.createJob(
                    b ->
                        b.jobId("j8")
                            .targets("gw-1")
                            .document(DOC)
                            .jobExecutionsRolloutConfig(r -> r.maximumPerMinute(1001))));
    assertTrue(
        rollout.getMessage().contains("jobExecutionsRolloutConfig.maximumPerMinute"),
        rollout.getMessage());
    assertThrows(
        InvalidRequestException.class, () -> iot.createJob(b -> b.jobId("j9").targets("gw-1")));

    ResourceNotFoundException missing =
        assertThrows(ResourceNotFoundException.class, () -> iot.describeJob(b -> b.jobId("nope")));
    assertEquals(404, missing.statusCode());
    assertThrows(ResourceNotFoundException.class, () -> iot.getJobDocument(b -> b.jobId("nope")));
    assertThrows(
        ResourceNotFoundException.class,
        () -> iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-9")));
    assertThrows(
        ResourceNotFoundException.class, () -> iot.listJobExecutionsForJob(b -> b.jobId("nope")));
  }

  @Test
  void rawHttpErrorsCarryTheErrorTypeHeaderAndAMessage() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    URI base = URI.create("http://127.0.0.1:" + hub.apiPort());

    HttpResponse<String> badBody =
        http.send(
            HttpRequest.newBuilder(base.resolve("/jobs/j1"))
                .PUT(HttpRequest.BodyPublishers.ofString("{\"targets\": [\"gw-1\""))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(400, badBody.statusCode());
    assertEquals(
        "InvalidRequestException", badBody.headers().firstValue("x-amzn-ErrorType").orElse(""));
    assertTrue(badBody.body().startsWith("{\"message\":\"The request body is not valid JSON"));

    HttpResponse<String> unknown =
        http.send(
            HttpRequest.newBuilder(base.resolve("/policies/p1")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(404, unknown.statusCode());
    assertEquals(
        "UnknownOperationException", unknown.headers().firstValue("x-amzn-ErrorType").orElse(""));

    HttpResponse<String> badId =
        http.send(
            HttpRequest.newBuilder(base.resolve("/jobs/bad.id")).GET().build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(400, badId.statusCode());
    assertEquals("InvalidRequestException", badId.headers().firstValue("x-amzn-ErrorType").get());
  }

  @Test
  void groupsRolloutsAbortRetriesAndDeletionsTravelInTheSdksShapes() {
    iot.createThing(b -> b.thingName("gw-1"));
    iot.createThing(b -> b.thingName("gw-2"));
    iot.createThingGroup(b -> b.thingGroupName("site"));
    iot.createThingGroup(
        b ->
            b.thingGroupName("line")
                .parentGroupName("site")
                .thingGroupProperties(p -> p.thingGroupDescription("line one")));
    iot.addThingToThingGroup(b -> b.thingGroupName("line").thingName("gw-1"));
    iot.addThingToThingGroup(b -> b.thingGroupName("site").thingName("gw-2"));
    var line = iot.describeThingGroup(b -> b.thingGroupName("line"));
    assertEquals("line one", line.thingGroupProperties().thingGroupDescription());
    assertEquals("site", line.thingGroupMetadata().parentGroupName());
    assertEquals(
        List.of("gw-1", "gw-2"),
        iot.listThingsInThingGroup(b -> b.thingGroupName("site").recursive(true)).things());
    assertEquals(
        List.of("gw-2"), iot.listThingsInThingGroup(b -> b.thingGroupName("site")).things());
    iot.removeThingFromThingGroup(b -> b.thingGroupName("site").thingName("gw-2"));
    assertEquals(
        List.of("gw-1"),
        iot.listThingsInThingGroup(b -> b.thingGroupName("site").recursive(true)).things());

    iot.createJob(
        b ->
            b.jobId("j1")
                .targets(line.thingGroupArn(), "gw-2")
                .document(DOC)
                .jobExecutionsRolloutConfig(
                    r ->
                        r.maximumPerMinute(50)
                            .exponentialRate(
                                e ->
                                    e.baseRatePerMinute(5)
                                        .incrementFactor(1.5)
                                        .rateIncreaseCriteria(c -> c.numberOfSucceededThings(3))))
                .abortConfig(
                    a ->
                        a.criteriaList(
                            c ->
                                c.failureType("FAILED")
                                    .action("CANCEL")
                                    .thresholdPercentage(25.5)
                                    .minNumberOfExecutedThings(2)))
                .jobExecutionsRetryConfig(
                    r -> r.criteriaList(c -> c.failureType("TIMED_OUT").numberOfRetries(3)))
                .timeoutConfig(t -> t.inProgressTimeoutInMinutes(60L)));
    Job job = iot.describeJob(b -> b.jobId("j1")).job();
    assertEquals(2, job.targets().size());
    assertEquals(50, job.jobExecutionsRolloutConfig().maximumPerMinute());
    assertEquals(1.5, job.jobExecutionsRolloutConfig().exponentialRate().incrementFactor());
    assertEquals(
        3,
        job.jobExecutionsRolloutConfig()
            .exponentialRate()
            .rateIncreaseCriteria()
            .numberOfSucceededThings());
    assertEquals(25.5, job.abortConfig().criteriaList().get(0).thresholdPercentage());
    assertEquals(3, job.jobExecutionsRetryConfig().criteriaList().get(0).numberOfRetries());

    assertThrows(
        software.amazon.awssdk.services.iot.model.InvalidStateTransitionException.class,
        () -> iot.deleteJob(b -> b.jobId("j1")));
    iot.cancelJobExecution(b -> b.jobId("j1").thingName("gw-2"));
    assertThrows(
        software.amazon.awssdk.services.iot.model.InvalidStateTransitionException.class,
        () -> iot.deleteJobExecution(b -> b.jobId("j1").thingName("gw-1").executionNumber(1L)));
    iot.deleteJobExecution(b -> b.jobId("j1").thingName("gw-2").executionNumber(1L));
    assertThrows(
        ResourceNotFoundException.class,
        () -> iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-2")));
    iot.cancelJob(b -> b.jobId("j1").reasonCode("OPERATOR").comment("enough"));
    job = iot.describeJob(b -> b.jobId("j1")).job();
    assertEquals(JobStatus.CANCELED, job.status());
    assertEquals("OPERATOR", job.reasonCode());
    assertEquals(1, job.jobProcessDetails().numberOfCanceledThings());
    iot.deleteJob(b -> b.jobId("j1"));
    assertThrows(ResourceNotFoundException.class, () -> iot.describeJob(b -> b.jobId("j1")));
  }

  @Test
  void jobsSurviveARestartOfTheHub() throws Exception {
    iot.createJob(b -> b.jobId("j1").targets("gw-1").document(DOC));
    iot.close();
    hub.stop();

    hub = Iot.hubWithoutBroker(dir);
    iot = Iot.client(hub.apiPort());
    assertEquals(DOC, iot.getJobDocument(b -> b.jobId("j1")).document());
    assertEquals(
        JobExecutionStatus.QUEUED,
        iot.describeJobExecution(b -> b.jobId("j1").thingName("gw-1")).execution().status());
  }
}
