package org.gantry.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Optional;
import org.gantry.protocol.JobsTopic.Answer;
import org.gantry.protocol.JobsTopic.Kind;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JobsTopicsTest {
  private final JobsTopics t = new JobsTopics("T");

  @Test
  void topicsOfOneThing() {
    assertEquals("T", t.thingName());
    assertEquals("$aws/things/T/jobs/get", t.getPending());
    assertEquals("$aws/things/T/jobs/start-next", t.startNext());
    assertEquals("$aws/things/T/jobs/j1/get", t.describe("j1"));
    assertEquals("$aws/things/T/jobs/$next/get", t.describe("$next"));
    assertEquals("$aws/things/T/jobs/j1/update", t.update("j1"));
    assertEquals("$aws/things/T/jobs/notify", t.notifyTopic());
    assertEquals("$aws/things/T/jobs/notify-next", t.notifyNext());
    assertEquals("$aws/things/T/jobs/j1/update/accepted", JobsTopics.accepted(t.update("j1")));
    assertEquals("$aws/things/T/jobs/get/rejected", JobsTopics.rejected(t.getPending()));
  }

  @Test
  void describeAndUpdateSubscriptionsCoverTheirAnswersAndNotifyNextOnly() {
    List<String> subs = t.describeAndUpdateSubscriptions();
    assertEquals(
        List.of(
            "$aws/things/T/jobs/notify-next",
            "$aws/things/T/jobs/+/get/+",
            "$aws/things/T/jobs/+/update/+"),
        subs);
    for (String topic :
        List.of(
            t.notifyNext(),
            JobsTopics.accepted(t.describe("$next")),
            JobsTopics.rejected(t.describe("$next")),
            JobsTopics.accepted(t.describe("get")),
            JobsTopics.rejected(t.describe("j-9")),
            JobsTopics.accepted(t.update("j_1")),
            JobsTopics.rejected(t.update("start-next")))) {
      assertTrue(subs.stream().anyMatch(f -> matches(f, topic)), topic);
    }
    for (String topic :
        List.of(
            t.notifyTopic(),
            JobsTopics.accepted(t.getPending()),
            JobsTopics.accepted(t.startNext()),
            // the device's own requests, including those of jobs named like requests
            t.describe("j-9"),
            t.describe("get"),
            t.update("j_1"),
            t.update("update"),
            t.getPending(),
            t.startNext())) {
      assertFalse(subs.stream().anyMatch(f -> matches(f, topic)), topic);
    }
  }

  @Test
  void deviceSubscriptionsCoverEveryAnswerAndNotification() {
    List<String> subs = t.deviceSubscriptions();
    assertEquals(
        List.of(
            "$aws/things/T/jobs/notify-next",
            "$aws/things/T/jobs/notify",
            "$aws/things/T/jobs/get/+",
            "$aws/things/T/jobs/start-next/+",
            "$aws/things/T/jobs/+/get/+",
            "$aws/things/T/jobs/+/update/+"),
        subs);
    List<String> mustReach =
        List.of(
            t.notifyNext(),
            t.notifyTopic(),
            JobsTopics.accepted(t.getPending()),
            JobsTopics.rejected(t.getPending()),
            JobsTopics.accepted(t.startNext()),
            JobsTopics.rejected(t.startNext()),
            JobsTopics.accepted(t.describe("$next")),
            JobsTopics.rejected(t.describe("j-9")),
            JobsTopics.accepted(t.update("j_1")),
            JobsTopics.rejected(t.update("j_1")));
    for (String topic : mustReach) {
      assertTrue(subs.stream().anyMatch(f -> matches(f, topic)), topic);
    }
  }

  /** MQTT 3.1.1 filter matching for filters without '#'. */
  private static boolean matches(String filter, String topic) {
    String[] f = filter.split("/", -1);
    String[] p = topic.split("/", -1);
    if (f.length != p.length) {
      return false;
    }
    for (int i = 0; i < f.length; i++) {
      if (!f[i].equals("+") && !f[i].equals(p[i])) {
        return false;
      }
    }
    return true;
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a b", "a/b", "+", "#", "caf\u00e9"})
  void badThingNamesAreRefused(String name) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> new JobsTopics(name));
    assertTrue(e.getMessage().contains("thingName"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new JobsTopics(null));
    assertThrows(IllegalArgumentException.class, () -> new JobsTopics("t".repeat(129)));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "a b", "a/b", "+", "#", "a:b"})
  void badJobIdsAreRefused(String jobId) {
    assertThrows(IllegalArgumentException.class, () -> t.describe(jobId));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> t.update(jobId));
    assertTrue(e.getMessage().contains("jobId"), e.getMessage());
  }

  @Test
  void nextIsOnlyForDescribe() {
    assertThrows(IllegalArgumentException.class, () -> t.update("$next"));
    assertThrows(IllegalArgumentException.class, () -> t.describe(null));
    assertThrows(IllegalArgumentException.class, () -> t.describe("x".repeat(65)));
  }

  @Test
  void everyTopicKindRoundTrips() {
    JobsTopics long128 = new JobsTopics("a:" + "b".repeat(126));
    for (JobsTopics topics : List.of(t, long128)) {
      for (Kind kind : Kind.values()) {
        for (Answer answer : Answer.values()) {
          boolean notification = kind == Kind.NOTIFY || kind == Kind.NOTIFY_NEXT;
          if (notification && answer != Answer.REQUEST) {
            continue;
          }
          List<String> jobIds =
              kind == Kind.DESCRIBE
                  ? List.of("j1", "$next", "x".repeat(64), "get", "update", "notify")
                  : kind == Kind.UPDATE
                      ? List.of("j1", "get", "start-next")
                      : java.util.Arrays.asList((String) null);
          for (String jobId : jobIds) {
            JobsTopic expected = new JobsTopic(topics.thingName(), jobId, kind, answer);
            String text = expected.topic();
            assertEquals(Optional.of(expected), JobsTopic.parse(text), text);
            assertTrue(JobsTopic.isJobsTopic(text), text);
          }
        }
      }
    }
  }

  @Test
  void topicTextMatchesTheBuilders() {
    assertEquals(
        t.getPending(), new JobsTopic("T", null, Kind.GET_PENDING, Answer.REQUEST).topic());
    assertEquals(
        JobsTopics.rejected(t.describe("$next")),
        new JobsTopic("T", "$next", Kind.DESCRIBE, Answer.REJECTED).topic());
    assertEquals(
        JobsTopics.accepted(t.update("j1")),
        new JobsTopic("T", "j1", Kind.UPDATE, Answer.ACCEPTED).topic());
    assertEquals(
        t.notifyNext(), new JobsTopic("T", null, Kind.NOTIFY_NEXT, Answer.REQUEST).topic());
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "$aws/things/T/jobs/bogus",
        "$aws/things/T/jobs/",
        "$aws/things/T/jobs/get/other",
        "$aws/things/T/jobs/get/accepted/more",
        "$aws/things/T/jobs/notify/accepted",
        "$aws/things/T/jobs/notify-next/rejected",
        "$aws/things/T/jobs/$next/update",
        "$aws/things/T/jobs/$next/update/accepted",
        "$aws/things/T/jobs/a b/get",
        "$aws/things/T/jobs/xyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy/get",
        "$aws/things/T/jobs/j1/delete",
        "$aws/things/T/jobs/j1/get/accepted/x",
        "$aws/things/T/jobs/j1/update/",
        "$aws/things/T/jobs//get",
        "$aws/things/T/jobs/+/get",
        "$aws/things/+/jobs/get",
        "$aws/things/a b/jobs/get",
        "$aws/things/T:\u00e9/jobs/get"
      })
  void unknownOrInvalidJobsTopicsAreEmptyButStillJobsTopics(String topic) {
    assertEquals(Optional.empty(), JobsTopic.parse(topic), topic);
    assertTrue(JobsTopic.isJobsTopic(topic), topic);
  }

  @Test
  void tooLongThingNameInATopicIsRefused() {
    String topic = "$aws/things/" + "t".repeat(129) + "/jobs/get";
    assertTrue(JobsTopic.isJobsTopic(topic));
    assertEquals(Optional.empty(), JobsTopic.parse(topic));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "$aws/things/T/jobs",
        "$aws/things/T/shadow/get",
        "$aws/things//jobs/get",
        "$aws/things/jobs/get",
        "aws/things/T/jobs/get",
        "$aws/certificates/create-from-csr/json",
        "$aws/things/T/jobsx/get",
        "x$aws/things/T/jobs/get"
      })
  void otherTopicsAreNotJobsTopics(String topic) {
    assertFalse(JobsTopic.isJobsTopic(topic), topic);
    assertEquals(Optional.empty(), JobsTopic.parse(topic));
    assertFalse(JobsTopic.isJobsTopic(null));
    assertEquals(Optional.empty(), JobsTopic.parse(null));
  }

  @Test
  void inconsistentPartsAreRefused() {
    assertThrows(
        IllegalArgumentException.class,
        () -> new JobsTopic("T", "j1", Kind.GET_PENDING, Answer.REQUEST));
    assertThrows(
        IllegalArgumentException.class,
        () -> new JobsTopic("T", null, Kind.UPDATE, Answer.REQUEST));
    assertThrows(
        IllegalArgumentException.class,
        () -> new JobsTopic("T", "$next", Kind.UPDATE, Answer.REQUEST));
    assertThrows(
        IllegalArgumentException.class,
        () -> new JobsTopic("T", null, Kind.NOTIFY, Answer.ACCEPTED));
    assertThrows(
        IllegalArgumentException.class,
        () -> new JobsTopic("a b", null, Kind.NOTIFY, Answer.REQUEST));
  }
}
