package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iot.IotClient;
import software.amazon.awssdk.services.iot.model.AttributePayload;
import software.amazon.awssdk.services.iot.model.DescribeThingResponse;
import software.amazon.awssdk.services.iot.model.GroupNameAndArn;
import software.amazon.awssdk.services.iot.model.InvalidRequestException;
import software.amazon.awssdk.services.iot.model.JobExecutionStatus;
import software.amazon.awssdk.services.iot.model.JobExecutionSummaryForThing;
import software.amazon.awssdk.services.iot.model.JobStatus;
import software.amazon.awssdk.services.iot.model.JobSummary;
import software.amazon.awssdk.services.iot.model.ListJobsResponse;
import software.amazon.awssdk.services.iot.model.ListThingsResponse;
import software.amazon.awssdk.services.iot.model.ResourceNotFoundException;
import software.amazon.awssdk.services.iot.model.TargetSelection;
import software.amazon.awssdk.services.iot.model.ThingAttribute;

/** ListJobs, ListThings, DescribeThing, ListJobExecutionsForThing and friends, through the SDK. */
class AwsSdkReadTest {
  private static final String ARN = "arn:aws:iot:us-east-1:123456789012:";
  private static final String DOC = "{\"operation\":\"diagnostics\"}";

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
  void describeThingAndListThingsWithAttributeFilters() {
    iot.createThing(
        b ->
            b.thingName("gw-2")
                .attributePayload(
                    AttributePayload.builder()
                        .attributes(Map.of("site", "plant-7", "line", "a"))
                        .build()));
    iot.createThing(
        b ->
            b.thingName("gw-1")
                .attributePayload(
                    AttributePayload.builder().attributes(Map.of("site", "plant-8")).build()));
    iot.createThing(b -> b.thingName("gw-3"));

    DescribeThingResponse d = iot.describeThing(b -> b.thingName("gw-2"));
    assertEquals("gw-2", d.thingName());
    assertEquals(ARN + "thing/gw-2", d.thingArn());
    assertNotNull(d.thingId());
    assertEquals(Map.of("site", "plant-7", "line", "a"), d.attributes());
    assertEquals(1L, d.version());
    assertThrows(ResourceNotFoundException.class, () -> iot.describeThing(b -> b.thingName("x")));
    assertThrows(
        InvalidRequestException.class, () -> iot.describeThing(b -> b.thingName("bad name")));

    ListThingsResponse all = iot.listThings(b -> b.maxResults(2));
    assertEquals(
        List.of("gw-1", "gw-2"), all.things().stream().map(ThingAttribute::thingName).toList());
    assertEquals(ARN + "thing/gw-1", all.things().get(0).thingArn());
    assertEquals(Map.of("site", "plant-8"), all.things().get(0).attributes());
    assertNotNull(all.nextToken());
    ListThingsResponse rest = iot.listThings(b -> b.maxResults(2).nextToken(all.nextToken()));
    assertEquals(List.of("gw-3"), rest.things().stream().map(ThingAttribute::thingName).toList());
    assertNull(rest.nextToken());

    assertEquals(
        List.of("gw-2"),
        iot.listThings(b -> b.attributeName("site").attributeValue("plant-7")).things().stream()
            .map(ThingAttribute::thingName)
            .toList());
    assertEquals(
        List.of("gw-1", "gw-2"),
        iot
            .listThings(
                b -> b.attributeName("site").attributeValue("plant").usePrefixAttributeValue(true))
            .things()
            .stream()
            .map(ThingAttribute::thingName)
            .toList());
    assertEquals(
        List.of("gw-2"),
        iot.listThings(b -> b.attributeName("line")).things().stream()
            .map(ThingAttribute::thingName)
            .toList());
  }

  @Test
  void pagingTokensAreStableUnderInsertsAndBadTokensAreRefused() {
    for (String t : List.of("t-1", "t-3", "t-5")) {
      iot.createThing(b -> b.thingName(t));
    }
    ListThingsResponse first = iot.listThings(b -> b.maxResults(2));
    assertEquals(
        List.of("t-1", "t-3"), first.things().stream().map(ThingAttribute::thingName).toList());
    // Inserted before and after the cursor between two pages: nothing repeats, nothing is lost.
    iot.createThing(b -> b.thingName("t-0"));
    iot.createThing(b -> b.thingName("t-4"));
    ListThingsResponse second = iot.listThings(b -> b.maxResults(2).nextToken(first.nextToken()));
    assertEquals(
        List.of("t-4", "t-5"), second.things().stream().map(ThingAttribute::thingName).toList());

    InvalidRequestException bad =
        assertThrows(
            InvalidRequestException.class, () -> iot.listThings(b -> b.nextToken("not-a-token")));
    assertTrue(bad.getMessage().contains("nextToken"), bad.getMessage());
    assertThrows(InvalidRequestException.class, () -> iot.listJobs(b -> b.nextToken("12")));
    assertThrows(InvalidRequestException.class, () -> iot.listThings(b -> b.maxResults(251)));
    assertThrows(InvalidRequestException.class, () -> iot.listJobs(b -> b.maxResults(0)));
  }

  @Test
  void listJobsFiltersByStatusSelectionAndGroup() {
    iot.createThingGroup(b -> b.thingGroupName("site"));
    String siteId = iot.describeThingGroup(b -> b.thingGroupName("site")).thingGroupId();
    iot.createJob(b -> b.jobId("a").targets("gw-1").document(DOC));
    iot.createJob(
        b ->
            b.jobId("b")
                .targets(ARN + "thinggroup/site")
                .targetSelection(TargetSelection.CONTINUOUS)
                .document(DOC));
    iot.createJob(b -> b.jobId("c").targets("gw-1").document(DOC));
    iot.cancelJob(b -> b.jobId("c"));

    List<String> ids = new ArrayList<>();
    String token = null;
    do {
      String t = token;
      ListJobsResponse page = iot.listJobs(b -> b.maxResults(1).nextToken(t));
      page.jobs().forEach(j -> ids.add(j.jobId()));
      token = page.nextToken();
    } while (token != null);
    assertEquals(List.of("a", "b", "c"), ids, "oldest first, each once");

    JobSummary b = iot.listJobs(r -> r.targetSelection(TargetSelection.CONTINUOUS)).jobs().get(0);
    assertEquals("b", b.jobId());
    assertEquals(ARN + "job/b", b.jobArn());
    assertEquals(JobStatus.IN_PROGRESS, b.status());
    assertEquals(siteId, b.thingGroupId());
    assertNotNull(b.createdAt());
    assertEquals(false, b.isConcurrent());
    assertEquals(
        List.of("c"),
        iot.listJobs(r -> r.status(JobStatus.CANCELED)).jobs().stream()
            .map(JobSummary::jobId)
            .toList());
    assertEquals(
        List.of("b"),
        iot.listJobs(r -> r.thingGroupName("site")).jobs().stream()
            .map(JobSummary::jobId)
            .toList());
    assertEquals(
        List.of("b"),
        iot.listJobs(r -> r.thingGroupId(siteId)).jobs().stream().map(JobSummary::jobId).toList());
    assertEquals(0, iot.listJobs(r -> r.namespaceId("ns")).jobs().size());
  }

  @Test
  void listJobExecutionsForThingListsEveryExecutionOfTheThing() {
    iot.createJob(b -> b.jobId("a").targets("gw-1", "gw-2").document(DOC));
    iot.createJob(b -> b.jobId("b").targets("gw-1").document(DOC));
    iot.cancelJobExecution(b -> b.jobId("b").thingName("gw-1"));

    List<JobExecutionSummaryForThing> all =
        iot.listJobExecutionsForThing(b -> b.thingName("gw-1")).executionSummaries();
    assertEquals(List.of("a", "b"), all.stream().map(JobExecutionSummaryForThing::jobId).toList());
    assertEquals(JobExecutionStatus.QUEUED, all.get(0).jobExecutionSummary().status());
    assertEquals(1L, all.get(0).jobExecutionSummary().executionNumber());
    assertNotNull(all.get(0).jobExecutionSummary().queuedAt());

    var page1 = iot.listJobExecutionsForThing(b -> b.thingName("gw-1").maxResults(1));
    assertEquals("a", page1.executionSummaries().get(0).jobId());
    var page2 =
        iot.listJobExecutionsForThing(
            b -> b.thingName("gw-1").maxResults(1).nextToken(page1.nextToken()));
    assertEquals("b", page2.executionSummaries().get(0).jobId());
    assertNull(page2.nextToken());

    assertEquals(
        List.of("b"),
        iot
            .listJobExecutionsForThing(b -> b.thingName("gw-1").status(JobExecutionStatus.CANCELED))
            .executionSummaries()
            .stream()
            .map(JobExecutionSummaryForThing::jobId)
            .toList());
    assertEquals(
        List.of("a"),
        iot
            .listJobExecutionsForThing(b -> b.thingName("gw-1").jobId("a"))
            .executionSummaries()
            .stream()
            .map(JobExecutionSummaryForThing::jobId)
            .toList());
    assertThrows(
        ResourceNotFoundException.class,
        () -> iot.listJobExecutionsForThing(b -> b.thingName("gw-9")));
    assertThrows(
        InvalidRequestException.class,
        () -> iot.listJobExecutionsForThing(b -> b.thingName("gw-1").jobId("bad.id")));
  }

  @Test
  void listThingGroupsByParentAndPrefix() {
    iot.createThingGroup(b -> b.thingGroupName("site"));
    iot.createThingGroup(b -> b.thingGroupName("line-1").parentGroupName("site"));
    iot.createThingGroup(b -> b.thingGroupName("cell-1").parentGroupName("line-1"));
    iot.createThingGroup(b -> b.thingGroupName("lab"));

    assertEquals(
        List.of("cell-1", "lab", "line-1", "site"),
        iot.listThingGroups(b -> b.maxResults(10)).thingGroups().stream()
            .map(GroupNameAndArn::groupName)
            .toList());
    assertEquals(
        List.of("line-1"),
        iot.listThingGroups(b -> b.parentGroup("site")).thingGroups().stream()
            .map(GroupNameAndArn::groupName)
            .toList());
    assertEquals(
        List.of("cell-1", "line-1"),
        iot.listThingGroups(b -> b.parentGroup("site").recursive(true)).thingGroups().stream()
            .map(GroupNameAndArn::groupName)
            .toList());
    assertEquals(
        List.of("lab", "line-1"),
        iot.listThingGroups(b -> b.namePrefixFilter("l")).thingGroups().stream()
            .map(GroupNameAndArn::groupName)
            .toList());
    assertEquals(
        List.of("lab", "site"),
        iot.listThingGroups(b -> b.recursive(false)).thingGroups().stream()
            .map(GroupNameAndArn::groupName)
            .toList());
    assertEquals(
        ARN + "thinggroup/lab",
        iot.listThingGroups(b -> b.namePrefixFilter("lab")).thingGroups().get(0).groupArn());
    assertThrows(
        ResourceNotFoundException.class, () -> iot.listThingGroups(b -> b.parentGroup("nope")));
  }

  @Test
  void deleteThingAsAwsDoesWithGantrysExecutionRule() throws Exception {
    iot.createThingGroup(b -> b.thingGroupName("site"));
    iot.createThing(b -> b.thingName("gw-1"));
    iot.addThingToThingGroup(b -> b.thingGroupName("site").thingName("gw-1"));
    iot.attachThingPrincipal(b -> b.thingName("gw-1").principal("gw-1"));
    InvalidRequestException attached =
        assertThrows(
            InvalidRequestException.class, () -> iot.deleteThing(b -> b.thingName("gw-1")));
    assertTrue(attached.getMessage().contains("principals"), attached.getMessage());
    iot.detachThingPrincipal(b -> b.thingName("gw-1").principal("gw-1"));
    assertThrows(
        software.amazon.awssdk.services.iot.model.VersionConflictException.class,
        () -> iot.deleteThing(b -> b.thingName("gw-1").expectedVersion(2L)));
    iot.deleteThing(b -> b.thingName("gw-1").expectedVersion(1L));
    assertThrows(
        ResourceNotFoundException.class, () -> iot.describeThing(b -> b.thingName("gw-1")));
    assertEquals(List.of(), iot.listThingsInThingGroup(b -> b.thingGroupName("site")).things());
    // Deleting a thing that does not exist is no error, as in AWS IoT.
    iot.deleteThing(b -> b.thingName("gw-1"));

    iot.createJob(b -> b.jobId("j1").targets("gw-2").document(DOC));
    InvalidRequestException busy =
        assertThrows(
            InvalidRequestException.class, () -> iot.deleteThing(b -> b.thingName("gw-2")));
    assertTrue(busy.getMessage().contains("job executions"), busy.getMessage());
    iot.deleteJob(b -> b.jobId("j1").force(true));
    iot.deleteThing(b -> b.thingName("gw-2"));

    // The deletion is stored: after a restart the thing is still gone.
    iot.close();
    hub.stop();
    start();
    assertThrows(
        ResourceNotFoundException.class, () -> iot.describeThing(b -> b.thingName("gw-2")));
    assertEquals(0, iot.listThings(b -> b.maxResults(10)).things().size());
  }

  @Test
  void describeJobCarriesGantrysRolloutStatus() throws Exception {
    iot.createJob(
        b ->
            b.jobId("slow")
                .targets("gw-1", "gw-2", "gw-3")
                .document(DOC)
                .jobExecutionsRolloutConfig(r -> r.maximumPerMinute(1)));
    iot.createJob(b -> b.jobId("fast").targets("gw-1").document(DOC));

    JsonObject slow = rolloutStatus("slow");
    assertEquals(1, slow.get("notifiedThings").getAsInt());
    assertEquals(2, slow.get("waitingExecutions").getAsInt());
    assertEquals(1, slow.get("currentRatePerMinute").getAsInt());
    assertEquals(1, slow.get("maximumPerMinute").getAsInt());
    assertEquals(1, slow.get("deliveredLastMinute").getAsInt());

    JsonObject fast = rolloutStatus("fast");
    assertEquals(1, fast.get("notifiedThings").getAsInt());
    assertEquals(0, fast.get("waitingExecutions").getAsInt());
    assertTrue(fast.get("currentRatePerMinute").isJsonNull());
    assertTrue(fast.get("maximumPerMinute").isJsonNull());
    // The SDK ignores the extension: DescribeJob still parses.
    assertEquals("slow", iot.describeJob(b -> b.jobId("slow")).job().jobId());
  }

  private JsonObject rolloutStatus(String jobId) throws Exception {
    HttpResponse<String> r =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + hub.apiPort() + "/jobs/" + jobId))
                    .GET()
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertEquals(200, r.statusCode(), r.body());
    return JsonParser.parseString(r.body())
        .getAsJsonObject()
        .getAsJsonObject("job")
        .getAsJsonObject("rolloutStatus");
  }
}
