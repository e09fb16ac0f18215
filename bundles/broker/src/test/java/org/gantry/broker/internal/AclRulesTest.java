package org.gantry.broker.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AclRulesTest {

  private static final String HUB_FILE =
      """
      # Written by the Gantry hub from its thing principals; do not edit (rewritten on every change).
      user gantry-hub
      topic readwrite $aws/things/+/jobs/#

      user gateway-7
      topic readwrite $aws/things/gateway-7/jobs/#
      topic readwrite $aws/things/sensor-1/jobs/#
        # indented comment
      user reader
      topic read $aws/things/r/jobs/notify
      topic write $aws/things/r/jobs/start-next
      topic $aws/things/r/jobs/+/update
      """;

  private static AclRules parse(String text) throws AclRules.SyntaxException {
    return AclRules.parse(List.of(text.split("\n", -1)));
  }

  @Test
  void grantsWhatTheHubsFileSaysAndNothingElse() throws Exception {
    AclRules rules = parse(HUB_FILE);
    assertEquals(3, rules.principals());
    assertTrue(rules.canRead("gantry-hub", "hub", "$aws/things/+/jobs/#"));
    assertTrue(rules.canWrite("gantry-hub", "hub", "$aws/things/gateway-7/jobs/j1/get"));
    assertTrue(rules.canRead("gateway-7", "g7", "$aws/things/gateway-7/jobs/#"));
    assertTrue(rules.canRead("gateway-7", "g7", "$aws/things/sensor-1/jobs/notify-next"));
    assertTrue(rules.canWrite("gateway-7", "g7", "$aws/things/sensor-1/jobs/start-next"));
    assertFalse(rules.canRead("gateway-7", "g7", "$aws/things/+/jobs/#"));
    assertFalse(rules.canRead("gateway-7", "g7", "$aws/things/other/jobs/#"));
    assertFalse(rules.canWrite("gateway-7", "g7", "$aws/things/other/jobs/start-next"));
    assertFalse(rules.canWrite("gateway-7", "g7", "$aws/things/gateway-7/shadow/update"));
    assertFalse(rules.canRead("stranger", "s", "$aws/things/gateway-7/jobs/#"));
    assertFalse(rules.canRead("", "s", "$aws/things/gateway-7/jobs/#"));
    assertFalse(rules.canRead(null, "s", "$aws/things/gateway-7/jobs/#"));
  }

  @Test
  void readAndWriteAreSeparateAndReadwriteIsTheDefault() throws Exception {
    AclRules rules = parse(HUB_FILE);
    assertTrue(rules.canRead("reader", "c", "$aws/things/r/jobs/notify"));
    assertFalse(rules.canWrite("reader", "c", "$aws/things/r/jobs/notify"));
    assertTrue(rules.canWrite("reader", "c", "$aws/things/r/jobs/start-next"));
    assertFalse(rules.canRead("reader", "c", "$aws/things/r/jobs/start-next"));
    assertTrue(rules.canRead("reader", "c", "$aws/things/r/jobs/j1/update"));
    assertTrue(rules.canWrite("reader", "c", "$aws/things/r/jobs/j1/update"));
  }

  @Test
  void aPublishTopicWithWildcardsIsNeverAllowed() throws Exception {
    assertFalse(parse(HUB_FILE).canWrite("gantry-hub", "hub", "$aws/things/+/jobs/x"));
  }

  @Test
  void patternsSubstituteThePrincipalAndClientIdButNotWildcardsOrSlashes() throws Exception {
    AclRules rules = parse("pattern readwrite $aws/things/%u/jobs/#\npattern read clients/%c/in\n");
    assertTrue(rules.canRead("gw", "c1", "$aws/things/gw/jobs/#"));
    assertFalse(rules.canRead("gw", "c1", "$aws/things/other/jobs/#"));
    assertTrue(rules.canRead("gw", "c1", "clients/c1/in"));
    assertFalse(rules.canWrite("gw", "c1", "clients/c1/in"));
    assertFalse(rules.canRead("gw", "+", "clients/+/in"), "a client id '+' must not widen it");
    assertFalse(rules.canRead("a/b", "c1", "$aws/things/a/b/jobs/#"));
    assertFalse(rules.canRead("#", "c1", "$aws/things/x/jobs/#"));
  }

  @Test
  void namesTheLineAndReasonOfAnythingItDoesNotUnderstand() {
    assertLine(3, "user a\ntopic read a/b\ntopic read a/#/b\n", "'#'");
    assertLine(2, "user a\nsubscribe a/b\n", "unknown keyword");
    assertLine(1, "topic read a/b\n", "before any 'user'");
    assertLine(2, "user a\ntopic deny a/b\n", "'deny'");
    assertLine(2, "user a\ntopic read\n", "needs a topic filter");
    assertLine(1, "user\n", "needs a principal");
    assertLine(1, "pattern read a/%u+/x\n", "'+'");
  }

  private static void assertLine(int line, String text, String reason) {
    AclRules.SyntaxException e = assertThrows(AclRules.SyntaxException.class, () -> parse(text));
    assertEquals(line, e.line(), e.getMessage());
    assertTrue(e.getMessage().contains(reason), e.getMessage());
  }
}
