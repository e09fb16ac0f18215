package org.gantry.transport.mqtt.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TopicsTest {

  @ParameterizedTest(name = "{0} vs {1} -> {2}")
  @CsvSource({
    // the examples of MQTT 3.1.1 §4.7.1.2 and §4.7.1.3
    "sport/tennis/player1/#, sport/tennis/player1, true",
    "sport/tennis/player1/#, sport/tennis/player1/ranking, true",
    "sport/tennis/player1/#, sport/tennis/player1/score/wimbledon, true",
    "sport/#, sport, true",
    "#, sport/tennis, true",
    "sport/tennis/+, sport/tennis/player1, true",
    "sport/tennis/+, sport/tennis/player1/ranking, false",
    "sport/+, sport, false",
    "sport/+, sport/, true",
    "+/+, /finance, true",
    "/+, /finance, true",
    "+, /finance, false",
    "+, finance, true",
    // §4.7.2: wildcards at the start do not match $-topics
    "#, $SYS/broker/load, false",
    "+/monitor/Clients, $SYS/monitor/Clients, false",
    "$SYS/#, $SYS/monitor/Clients, true",
    "$SYS/monitor/+, $SYS/monitor/Clients, true",
    "#, $aws/things/T/jobs/j1/get/accepted, false",
    "+/things/T/jobs/j1/get/accepted, $aws/things/T/jobs/j1/get/accepted, false",
    // the AWS IoT Jobs answer topics
    "$aws/things/T/jobs/+/get/+, $aws/things/T/jobs/j1/get/accepted, true",
    "$aws/things/T/jobs/+/get/+, $aws/things/T/jobs/$next/get/rejected, true",
    "$aws/things/T/jobs/+/get/+, $aws/things/T/jobs/j1/update/accepted, false",
    "$aws/things/T/jobs/+/get/+, $aws/things/T/jobs/get/accepted, false",
    "$aws/things/T/jobs/+/get/+, $aws/things/U/jobs/j1/get/accepted, false",
    "$aws/things/T/jobs/+/+/accepted, $aws/things/T/jobs/j1/update/accepted, true",
    "$aws/things/T/jobs/notify-next, $aws/things/T/jobs/notify-next, true",
    "$aws/things/T/jobs/notify-next, $aws/things/T/jobs/notify, false",
    // exact and empty levels
    "a/b, a/b, true",
    "a/b, a/b/c, false",
    "a/b/c, a/b, false",
    "a//b, a//b, true",
    "a/+/b, a//b, true",
    "/, /, true",
    "a/#, a/, true",
    "A/b, a/b, false"
  })
  void matchesLikeMqtt311(String filter, String topic, boolean expected) {
    Topics.checkFilter(filter);
    Topics.checkTopicName(topic);
    assertEquals(expected, Topics.matches(filter, topic));
  }

  @ParameterizedTest
  @ValueSource(strings = {"a/#/b", "a#", "#a", "a/b#", "a+/b", "a/+b", "++", "", "x\u0000y"})
  void invalidFiltersAreRefused(String filter) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Topics.checkFilter(filter));
    assertTrue(e.getMessage().contains("topic filter"), e.getMessage());
  }

  @ParameterizedTest
  @ValueSource(strings = {"a/+", "a/#", "#", "+", "", "x\u0000y"})
  void invalidTopicNamesAreRefused(String topic) {
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Topics.checkTopicName(topic));
    assertTrue(e.getMessage().contains("topic"), e.getMessage());
  }

  @org.junit.jupiter.api.Test
  void overlongFilterIsRefused() {
    String filter = "a".repeat(65_536);
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Topics.checkFilter(filter));
    assertTrue(e.getMessage().contains("65535"), e.getMessage());
  }
}
