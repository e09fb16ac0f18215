package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TopicFiltersTest {

  @ParameterizedTest(name = "ACL {0} covers {1}: {2}")
  @CsvSource({
    // exact and single-level wildcards
    "a/b, a/b, true",
    "a/b, a/c, false",
    "a/+, a/b, true",
    "a/+, a/+, true",
    "a/b, a/+, false",
    "a/+, a/b/c, false",
    "a/+/c, a/x/c, true",
    // '#' covers the parent level and everything below it
    "a/#, a, true",
    "a/#, a/b/c, true",
    "a/#, a/#, true",
    "a/#, a/+/c, true",
    "a/b/#, a/#, false",
    "a/b/#, a/+/#, false",
    "a/+/#, a/b/#, true",
    "a/b, a/b/#, false",
    "a/b, a, false",
    "a, a/b, false",
    // '$' topics: never through a wildcard in the first level
    "#, $aws/things/t/jobs/get, false",
    "+/things/#, $aws/things/t/jobs/get, false",
    "$aws/things/+/jobs/#, $aws/things/t/jobs/get, true",
    "$aws/things/+/jobs/#, $aws/things/+/jobs/#, true",
    "$aws/things/t/jobs/#, $aws/things/+/jobs/#, false",
    "$aws/things/t/jobs/#, $aws/things/u/jobs/#, false",
    "$aws/things/t/jobs/#, $aws/things/t/jobs/j1/get/accepted, true",
    "$aws/things/t/jobs/#, $aws/things/t/shadow/get, false",
    // a subscription starting with a wildcard could receive $ topics on Moquette
    "#, #, false",
    "#, +/b, false",
    "#, a/b, true",
    // empty levels are levels
    "a//b, a//b, true",
    "a/+/b, a//b, true",
    "/a, /a, true",
    "+/a, /a, true",
  })
  void covers(String granted, String requested, boolean expected) {
    assertEquals(expected, TopicFilters.covers(granted, requested));
  }

  @ParameterizedTest
  @CsvSource({"a/#/b", "a/b#", "a+/b", "#/a", "''"})
  void refusesInvalidFilters(String filter) {
    assertNotNull(TopicFilters.invalidReason(filter), filter);
  }

  @ParameterizedTest
  @CsvSource({"a/#", "+", "#", "$aws/things/+/jobs/#", "a//b", "/"})
  void acceptsValidFilters(String filter) {
    assertNull(TopicFilters.invalidReason(filter), filter);
  }
}
