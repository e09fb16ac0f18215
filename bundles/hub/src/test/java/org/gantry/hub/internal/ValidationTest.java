package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iot.IotClient;
import software.amazon.awssdk.services.iot.model.InvalidRequestException;
import software.amazon.awssdk.services.iot.model.InvalidStateTransitionException;
import software.amazon.awssdk.services.iot.model.IotException;
import software.amazon.awssdk.services.iot.model.ResourceAlreadyExistsException;
import software.amazon.awssdk.services.iot.model.ResourceNotFoundException;
import software.amazon.awssdk.services.iot.model.VersionConflictException;

/** Every route's validation and error types, as the AWS SDK surfaces them. */
class ValidationTest {
  private static final String DOC = "{\"operation\":\"diagnostics\"}";
  private static final String LONG_JOB = "j".repeat(65);
  private static final String LONG_NAME = "t".repeat(129);

  @TempDir Path dir;
  private HubComponent hub;
  private IotClient iot;

  @BeforeEach
  void start() throws Exception {
    hub = Iot.hubWithoutBroker(dir);
    iot = Iot.client(hub.apiPort());
  }

  @AfterEach
  void stop() {
    iot.close();
    hub.stop();
  }

  @Test
  void badIdsAreInvalidRequestsOnEveryRoute() {
    List<Executable> calls =
        List.of(
            () -> iot.createThing(b -> b.thingName(LONG_NAME)),
            () -> iot.createThing(b -> b.thingName("a/b")),
            () -> iot.describeThing(b -> b.thingName("a b")),
            () -> iot.createJob(b -> b.jobId(LONG_JOB).targets("gw-1").document(DOC)),
            () -> iot.createJob(b -> b.jobId("a:b").targets("gw-1").document(DOC)),
            () -> iot.describeJob(b -> b.jobId("a.b")),
            () -> iot.getJobDocument(b -> b.jobId(LONG_JOB)),
            () -> iot.cancelJob(b -> b.jobId("a.b")),
            () -> iot.deleteJob(b -> b.jobId("a.b")),
            () -> iot.describeJobExecution(b -> b.jobId("j1").thingName(LONG_NAME)),
            () -> iot.cancelJobExecution(b -> b.jobId("a.b").thingName("gw-1")),
            () -> iot.deleteJobExecution(b -> b.jobId("j1").thingName("a b").executionNumber(1L)),
            () -> iot.listJobExecutionsForJob(b -> b.jobId("a.b")),
            () -> iot.listJobExecutionsForThing(b -> b.thingName("a b")),
            () -> iot.createThingGroup(b -> b.thingGroupName(LONG_NAME)),
            () -> iot.describeThingGroup(b -> b.thingGroupName("a b")),
            () -> iot.listThingsInThingGroup(b -> b.thingGroupName("a.b")),
            () -> iot.addThingToThingGroup(b -> b.thingGroupName("a b").thingName("gw-1")),
            () -> iot.removeThingFromThingGroup(b -> b.thingGroupName("g").thingName("a b")),
            () -> iot.listThingPrincipals(b -> b.thingName("a b")),
            () -> iot.listJobs(b -> b.thingGroupName("a b")),
            () -> iot.listJobs(b -> b.maxResults(251)),
            () -> iot.listThings(b -> b.maxResults(0)),
            () -> iot.listThingGroups(b -> b.maxResults(300)),
            () -> iot.listJobExecutionsForJob(b -> b.jobId("j1").status("DONE")));
    iot.createJob(b -> b.jobId("j1").targets("gw-1").document(DOC));
    int i = 0;
    for (Executable call : calls) {
      InvalidRequestException e =
          assertThrows(InvalidRequestException.class, call, "call " + i + " of the list");
      assertEquals(400, e.statusCode());
      assertTrue(e.getMessage().length() > 10, e.getMessage());
      i++;
    }
  }

  @Test
  void missingResourcesConflictsAndStatesArriveAsTheirExceptions() {
    List<Executable> missing =
        List.of(
            () -> iot.describeJob(b -> b.jobId("nope")),
            () -> iot.getJobDocument(b -> b.jobId("nope")),
            () -> iot.cancelJob(b -> b.jobId("nope")),
            () -> iot.deleteJob(b -> b.jobId("nope")),
            () -> iot.describeJobExecution(b -> b.jobId("nope").thingName("gw-1")),
            () -> iot.cancelJobExecution(b -> b.jobId("nope").thingName("gw-1")),
            () -> iot.listJobExecutionsForJob(b -> b.jobId("nope")),
            () -> iot.describeThing(b -> b.thingName("nope")),
            () -> iot.listJobExecutionsForThing(b -> b.thingName("nope")),
            () -> iot.describeThingGroup(b -> b.thingGroupName("nope")),
            () -> iot.listThingsInThingGroup(b -> b.thingGroupName("nope")),
            () -> iot.addThingToThingGroup(b -> b.thingGroupName("nope").thingName("gw-1")),
            () -> iot.createThingGroup(b -> b.thingGroupName("g2").parentGroupName("nope")),
            () -> iot.attachThingPrincipal(b -> b.thingName("nope").principal("p")),
            () -> iot.listThingGroups(b -> b.parentGroup("nope")));
    for (Executable call : missing) {
      ResourceNotFoundException e = assertThrows(ResourceNotFoundException.class, call);
      assertEquals(404, e.statusCode());
    }

    iot.createThingGroup(b -> b.thingGroupName("g"));
    ResourceAlreadyExistsException group =
        assertThrows(
            ResourceAlreadyExistsException.class,
            () ->
                iot.createThingGroup(
                    b ->
                        b.thingGroupName("g")
                            .thingGroupProperties(p -> p.thingGroupDescription("other"))));
    assertEquals("arn:aws:iot:us-east-1:123456789012:thinggroup/g", group.resourceArn());

    iot.createJob(b -> b.jobId("j1").targets("gw-1", "gw-2").document(DOC));
    VersionConflictException version =
        assertThrows(
            VersionConflictException.class,
            () -> iot.cancelJobExecution(b -> b.jobId("j1").thingName("gw-1").expectedVersion(7L)));
    assertEquals(409, version.statusCode());
    iot.cancelJobExecution(b -> b.jobId("j1").thingName("gw-1"));
    assertThrows(
        InvalidStateTransitionException.class,
        () -> iot.cancelJobExecution(b -> b.jobId("j1").thingName("gw-1")));
    iot.cancelJob(b -> b.jobId("j1"));
    InvalidStateTransitionException twice =
        assertThrows(
            InvalidStateTransitionException.class, () -> iot.cancelJob(b -> b.jobId("j1")));
    assertTrue(twice.getMessage().contains("already CANCELED"), twice.getMessage());
  }

  @Test
  void unknownRoutesBodiesAndQueriesAsAwsAnswersThem() throws Exception {
    HttpClient http = HttpClient.newHttpClient();
    URI base = URI.create("http://127.0.0.1:" + hub.apiPort());
    HttpResponse<String> notJson =
        http.send(
            HttpRequest.newBuilder(base.resolve("/things/gw-1"))
                .POST(HttpRequest.BodyPublishers.ofString("attributePayload=x"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(400, notJson.statusCode());
    assertEquals("InvalidRequestException", notJson.headers().firstValue("x-amzn-ErrorType").get());

    for (String route : List.of("/policies", "/things/gw-1/shadow", "/jobs/j1/things/x")) {
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(base.resolve(route)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      assertEquals(404, r.statusCode(), route);
      assertEquals(
          "UnknownOperationException", r.headers().firstValue("x-amzn-ErrorType").get(), route);
      assertTrue(r.body().contains("no operation"), r.body());
    }
    HttpResponse<String> wrongMethod =
        http.send(
            HttpRequest.newBuilder(base.resolve("/jobs")).DELETE().build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(
        "UnknownOperationException", wrongMethod.headers().firstValue("x-amzn-ErrorType").get());

    // Query parameters the hub does not know are ignored, as AWS ignores them.
    HttpResponse<String> extra =
        http.send(
            HttpRequest.newBuilder(base.resolve("/things?maxResults=5&futureFilter=x"))
                .GET()
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertEquals(200, extra.statusCode(), extra.body());

    // The SDK's generic view of an unknown operation is still an IotException with the code.
    IotException e = assertThrows(IotException.class, () -> iot.listPolicies(b -> b.pageSize(1)));
    assertEquals("UnknownOperationException", e.awsErrorDetails().errorCode());
  }
}
