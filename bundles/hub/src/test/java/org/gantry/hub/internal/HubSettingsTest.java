package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class HubSettingsTest {
  private static final Arns ARNS = new Arns("eu-west-1", "123456789012");

  private static String refusal(Runnable r) {
    return assertThrows(IllegalArgumentException.class, r::run).getMessage();
  }

  @Test
  void invalidValuesAreRefusedNamingTheProperty() {
    Path d = Path.of("/tmp/x");
    assertTrue(
        refusal(() -> new HubSettings("ws://h:1", "c", "127.0.0.1", 1, d, ARNS))
            .startsWith("mqtt.url"));
    assertTrue(
        refusal(() -> new HubSettings("tcp://h", "c", "127.0.0.1", 1, d, ARNS))
            .startsWith("mqtt.url"));
    assertTrue(
        refusal(() -> new HubSettings("tcp://h:1", "", "127.0.0.1", 1, d, ARNS))
            .startsWith("client.id"));
    assertTrue(
        refusal(() -> new HubSettings("tcp://h:1", "c", "127.0.0.1", 0, d, ARNS))
            .startsWith("api.port"));
    assertTrue(
        refusal(() -> new HubSettings("tcp://h:1", "c", " ", 1, d, ARNS)).startsWith("api.host"));
    assertTrue(
        refusal(() -> new HubSettings("tcp://h:1", "c", "127.0.0.1", 1, null, ARNS))
            .startsWith("data.dir"));
    assertTrue(refusal(() -> new Arns("mars", "123456789012")).startsWith("region"));
    assertTrue(refusal(() -> new Arns("us-east-1", "12")).startsWith("account.id"));
  }

  @Test
  void arnsAreWrittenAndTargetsRead() throws Exception {
    assertEquals("arn:aws:iot:eu-west-1:123456789012:thing/gw-1", ARNS.thing("gw-1"));
    assertEquals("arn:aws:iot:eu-west-1:123456789012:job/j1", ARNS.job("j1"));
    assertEquals("arn:aws:iot:eu-west-1:123456789012:thinggroup/g", ARNS.thingGroup("g"));
    assertEquals(
        new Arns.Target(false, "gw:1"),
        Arns.target("arn:aws:iot:us-east-1:999999999999:thing/gw:1"));
    assertEquals(new Arns.Target(false, "gw-1"), Arns.target("gw-1"));
    assertEquals(new Arns.Target(true, "g"), Arns.target("arn:aws:iot:r:a:thinggroup/g"));
    assertEquals(
        "InvalidRequestException",
        assertThrows(ApiException.class, () -> Arns.target("arn:aws:s3:::bucket/x")).type());
    assertThrows(ApiException.class, () -> Arns.thingOf("arn:aws:iot:r:a:thinggroup/g", "x"));
    assertThrows(ApiException.class, () -> Arns.target("gw 1"));
  }
}
