package org.gantry.hub.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.iot.IotClient;
import software.amazon.awssdk.services.iot.model.InvalidRequestException;
import software.amazon.awssdk.services.iot.model.ResourceNotFoundException;
import software.amazon.awssdk.services.iot.model.ThingPrincipalType;

/** Thing principals through the SDK, their durability, and the ACL file written from them. */
class PrincipalsAndAclTest {
  private static final String HEADER = AclFile.HEADER + "\n";

  @TempDir Path dir;
  private HubComponent hub;
  private IotClient iot;

  private void start(AclSettings acl) throws Exception {
    hub =
        new HubComponent(
            new HubSettings(
                "tcp://127.0.0.1:" + TestBroker.freePort(),
                "gantry-hub",
                "127.0.0.1",
                TestBroker.freePort(),
                dir.resolve("data"),
                new Arns("us-east-1", "123456789012")),
            Artifacts.Settings.loopback(),
            acl,
            java.time.Clock.systemUTC());
    iot = Iot.client(hub.apiPort());
  }

  @AfterEach
  void stop() {
    if (iot != null) {
      iot.close();
    }
    if (hub != null) {
      hub.stop();
    }
  }

  @Test
  void principalsAttachToSeveralThingsAndSurviveARestart() throws Exception {
    start(AclSettings.none());
    iot.createThing(b -> b.thingName("gateway-7"));
    iot.createThing(b -> b.thingName("sensor-1"));
    iot.attachThingPrincipal(b -> b.thingName("gateway-7").principal("gateway-7"));
    iot.attachThingPrincipal(b -> b.thingName("sensor-1").principal("gateway-7"));
    iot.attachThingPrincipal(b -> b.thingName("sensor-1").principal("service.plant-7"));
    // Attaching again changes nothing.
    iot.attachThingPrincipal(b -> b.thingName("sensor-1").principal("gateway-7"));

    assertEquals(
        List.of("gateway-7", "service.plant-7"),
        iot.listThingPrincipals(b -> b.thingName("sensor-1")).principals());
    assertEquals(
        List.of("gateway-7", "sensor-1"),
        iot.listPrincipalThings(b -> b.principal("gateway-7")).things());
    var page = iot.listPrincipalThings(b -> b.principal("gateway-7").maxResults(1));
    assertEquals(List.of("gateway-7"), page.things());
    assertNotNull(page.nextToken());
    assertEquals(
        List.of("sensor-1"),
        iot.listPrincipalThings(b -> b.principal("gateway-7").nextToken(page.nextToken()))
            .things());
    assertEquals(List.of(), iot.listPrincipalThings(b -> b.principal("nobody")).things());

    iot.detachThingPrincipal(b -> b.thingName("sensor-1").principal("service.plant-7"));
    iot.detachThingPrincipal(b -> b.thingName("sensor-1").principal("service.plant-7"));

    iot.close();
    hub.stop();
    start(AclSettings.none());
    assertEquals(
        List.of("gateway-7"), iot.listThingPrincipals(b -> b.thingName("sensor-1")).principals());
    assertEquals(
        List.of("gateway-7", "sensor-1"),
        iot.listPrincipalThings(b -> b.principal("gateway-7")).things());
  }

  @Test
  void badPrincipalsAndUnknownThingsAreRefusedAsAwsDoes() throws Exception {
    start(AclSettings.none());
    iot.createThing(b -> b.thingName("gw-1"));
    assertThrows(
        ResourceNotFoundException.class,
        () -> iot.attachThingPrincipal(b -> b.thingName("gw-9").principal("gw-9")));
    assertThrows(
        ResourceNotFoundException.class, () -> iot.listThingPrincipals(b -> b.thingName("gw-9")));
    InvalidRequestException bad =
        assertThrows(
            InvalidRequestException.class,
            () ->
                iot.attachThingPrincipal(
                    b -> b.thingName("gw-1").principal("arn:aws:iot:us-east-1:1:cert/abc")));
    assertTrue(bad.getMessage().contains("principal"), bad.getMessage());
    assertThrows(
        InvalidRequestException.class,
        () -> iot.attachThingPrincipal(b -> b.thingName("gw-1").principal("a b")));
    assertThrows(
        InvalidRequestException.class,
        () ->
            iot.attachThingPrincipal(
                b ->
                    b.thingName("gw-1")
                        .principal("gw-1")
                        .thingPrincipalType(ThingPrincipalType.EXCLUSIVE_THING)));
    assertThrows(
        InvalidRequestException.class,
        () -> iot.detachThingPrincipal(b -> b.thingName("bad name").principal("gw-1")));
  }

  @Test
  void theAclFileFollowsEveryAttachAndDetach() throws Exception {
    Path acl = dir.resolve("broker/acl");
    start(new AclSettings(acl, List.of("gantry-hub"), List.of()));
    assertEquals(HEADER + "user gantry-hub\ntopic readwrite $aws/things/+/jobs/#\n", read(acl));

    iot.createThing(b -> b.thingName("gateway-7"));
    iot.createThing(b -> b.thingName("sensor-1"));
    iot.createThing(b -> b.thingName("gateway-2"));
    iot.attachThingPrincipal(b -> b.thingName("sensor-1").principal("gateway-7"));
    iot.attachThingPrincipal(b -> b.thingName("gateway-7").principal("gateway-7"));
    iot.attachThingPrincipal(b -> b.thingName("gateway-2").principal("gateway-2"));
    assertEquals(
        HEADER
            + "user gantry-hub\n"
            + "topic readwrite $aws/things/+/jobs/#\n"
            + "\n"
            + "user gateway-2\n"
            + "topic readwrite $aws/things/gateway-2/jobs/#\n"
            + "\n"
            + "user gateway-7\n"
            + "topic readwrite $aws/things/gateway-7/jobs/#\n"
            + "topic readwrite $aws/things/sensor-1/jobs/#\n",
        read(acl));

    iot.detachThingPrincipal(b -> b.thingName("gateway-2").principal("gateway-2"));
    iot.detachThingPrincipal(b -> b.thingName("sensor-1").principal("gateway-7"));
    assertEquals(
        HEADER
            + "user gantry-hub\n"
            + "topic readwrite $aws/things/+/jobs/#\n"
            + "\n"
            + "user gateway-7\n"
            + "topic readwrite $aws/things/gateway-7/jobs/#\n",
        read(acl));
    assertFalse(Files.exists(acl.resolveSibling("acl.tmp")), "no temp file left behind");

    // At start the file is written from the store, whatever was there.
    iot.close();
    hub.stop();
    Files.writeString(acl, "user intruder\ntopic readwrite #\n");
    start(new AclSettings(acl, List.of("gantry-hub"), List.of()));
    assertTrue(
        read(acl).endsWith("user gateway-7\ntopic readwrite $aws/things/gateway-7/jobs/#\n"));
    assertFalse(read(acl).contains("intruder"));
  }

  @Test
  void aReaderNeverSeesAPartialFileWhileItIsRewritten() throws Exception {
    Path path = dir.resolve("acl");
    AclFile acl = new AclFile(path, List.of("gantry-hub"), List.of(), 1_000);
    List<Map<String, List<String>>> versions = new ArrayList<>();
    Set<String> complete = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      List<String> things = new ArrayList<>();
      for (int t = 0; t <= i; t++) {
        things.add("thing-" + t);
      }
      Map<String, List<String>> v = Map.of("gw-" + i, things);
      versions.add(v);
      complete.add(acl.render(v));
    }
    acl.write(versions.get(0));
    AtomicBoolean done = new AtomicBoolean();
    List<String> seen = new ArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              while (!done.get()) {
                try {
                  seen.add(Files.readString(path));
                } catch (java.io.IOException e) {
                  seen.add("unreadable: " + e);
                }
              }
            });
    reader.start();
    for (Map<String, List<String>> v : versions) {
      acl.write(v);
    }
    done.set(true);
    reader.join(10_000);
    acl.close();
    assertFalse(seen.isEmpty());
    for (String s : seen) {
      assertTrue(complete.contains(s), "a partial or foreign file was visible: " + s);
    }
    assertEquals(acl.render(versions.get(49)), read(path));
  }

  @Test
  void theReloadCommandRunsAfterARewriteAndAFailingOneIsOnlyLogged() throws Exception {
    Path marker = dir.resolve("reloaded");
    try (WatchService watch = FileSystems.getDefault().newWatchService()) {
      dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE);
      AclFile acl =
          new AclFile(
              dir.resolve("acl"),
              List.of("gantry-hub"),
              List.of("touch", marker.toString()),
              5_000);
      acl.write(Map.of("gw-1", List.of("gw-1")));
      boolean created = false;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (!created && System.nanoTime() < deadline) {
        WatchKey key = watch.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (key == null) {
          break;
        }
        created = key.pollEvents().stream().anyMatch(e -> marker.getFileName().equals(e.context()));
        key.reset();
      }
      acl.close();
      assertTrue(created || Files.exists(marker), "the reload command ran");
    }
    AclFile broken =
        new AclFile(
            dir.resolve("acl2"), List.of("gantry-hub"), List.of(dir + "/no-such-command"), 1_000);
    broken.write(Map.of());
    broken.close();
    assertTrue(read(dir.resolve("acl2")).startsWith(HEADER), "the file is written all the same");
  }

  private static String read(Path p) throws Exception {
    return new String(Files.readAllBytes(p), StandardCharsets.UTF_8);
  }
}
