package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The hub role's configuration: which files, which broker, which ports. */
class HubConfigStagerTest {

  @TempDir Path etc;
  @TempDir Path data;

  @BeforeEach
  void shipped() throws Exception {
    Files.writeString(etc.resolve("org.gantry.engine.cfg"), "request.timeout.seconds = 10\n");
    Files.writeString(
        etc.resolve("org.gantry.transport.mqtt.cfg"), "broker.url = tcp://127.0.0.1:1883\n");
    Files.writeString(etc.resolve("org.ops4j.pax.logging.cfg"), "log4j2.rootLogger.level = INFO\n");
    Files.writeString(
        etc.resolve("org.gantry.hub.cfg"), "#mqtt.url = tcp://x:1\napi.host = 127.0.0.1\n");
    Files.writeString(
        etc.resolve("org.gantry.broker.cfg"), "port = 1883\nmax.message.bytes = 131072\n");
  }

  private static HubOptions options(Integer mqtt, Integer api, String broker, Path dataDir) {
    return new HubOptions(
        Optional.ofNullable(mqtt),
        Optional.ofNullable(api),
        Optional.ofNullable(broker),
        Optional.ofNullable(dataDir),
        Optional.empty());
  }

  private static Map<String, Map<String, String>> byName(ConfigStager.HubPlan plan) {
    return plan.files().stream()
        .collect(Collectors.toMap(ConfigStager.Staged::name, ConfigStager.Staged::properties));
  }

  @Test
  void defaultsRunTheEmbeddedBrokerAndPointTheHubAtIt() throws Exception {
    ConfigStager.HubPlan plan = ConfigStager.stageHub(etc, options(null, null, null, null), data);
    Map<String, Map<String, String>> files = byName(plan);
    assertEquals(
        List.of("org.gantry.broker.cfg", "org.gantry.hub.cfg", "org.ops4j.pax.logging.cfg"),
        files.keySet().stream().sorted().toList(),
        "the gateway's files are left out");
    assertEquals("1883", files.get("org.gantry.broker.cfg").get("port"));
    assertEquals("127.0.0.1", files.get("org.gantry.broker.cfg").get("host"));
    assertEquals("131072", files.get("org.gantry.broker.cfg").get("max.message.bytes"));
    Map<String, String> hub = files.get("org.gantry.hub.cfg");
    assertEquals("tcp://127.0.0.1:1883", hub.get("mqtt.url"));
    assertEquals("8080", hub.get("api.port"));
    assertEquals(data.toString(), hub.get("data.dir"));
    assertEquals(Optional.of(1883), plan.embeddedBroker().map(InetSocketAddress::getPort));
    assertEquals("127.0.0.1:8080", plan.api().getHostString() + ":" + plan.api().getPort());
  }

  @Test
  void optionsWinOverTheFiles() throws Exception {
    Files.writeString(etc.resolve("org.gantry.hub.cfg"), "api.port = 9000\ndata.dir = /srv/hub\n");
    Path other = data.resolve("other");
    ConfigStager.HubPlan plan = ConfigStager.stageHub(etc, options(2883, 9090, null, other), data);
    Map<String, Map<String, String>> files = byName(plan);
    assertEquals("2883", files.get("org.gantry.broker.cfg").get("port"));
    assertEquals("tcp://127.0.0.1:2883", files.get("org.gantry.hub.cfg").get("mqtt.url"));
    assertEquals("9090", files.get("org.gantry.hub.cfg").get("api.port"));
    assertEquals(other.toString(), files.get("org.gantry.hub.cfg").get("data.dir"));
  }

  @Test
  void theFilesWinOverTheDefaults() throws Exception {
    Files.writeString(etc.resolve("org.gantry.hub.cfg"), "api.port = 9000\ndata.dir = /srv/hub\n");
    Files.writeString(etc.resolve("org.gantry.broker.cfg"), "port = 1999\n");
    Map<String, Map<String, String>> files =
        byName(ConfigStager.stageHub(etc, options(null, null, null, null), data));
    assertEquals("9000", files.get("org.gantry.hub.cfg").get("api.port"));
    assertEquals("/srv/hub", files.get("org.gantry.hub.cfg").get("data.dir"));
    assertEquals("tcp://127.0.0.1:1999", files.get("org.gantry.hub.cfg").get("mqtt.url"));
  }

  @Test
  void anExternalBrokerLeavesTheEmbeddedOneOut() throws Exception {
    ConfigStager.HubPlan plan =
        ConfigStager.stageHub(etc, options(null, null, "tcp://10.0.0.5:1883", null), data);
    Map<String, Map<String, String>> files = byName(plan);
    assertFalse(files.containsKey("org.gantry.broker.cfg"), files.keySet().toString());
    assertEquals("tcp://10.0.0.5:1883", files.get("org.gantry.hub.cfg").get("mqtt.url"));
    assertTrue(plan.embeddedBroker().isEmpty());
    assertEquals("tcp://10.0.0.5:1883", plan.mqttUrl());
  }

  @Test
  void mqttUrlInTheHubFileNamesAnExternalBrokerToo() throws Exception {
    Files.writeString(etc.resolve("org.gantry.hub.cfg"), "mqtt.url = tcp://mosquitto:1883\n");
    ConfigStager.HubPlan plan = ConfigStager.stageHub(etc, options(null, null, null, null), data);
    assertTrue(plan.embeddedBroker().isEmpty());
    assertFalse(byName(plan).containsKey("org.gantry.broker.cfg"));
    assertEquals("tcp://mosquitto:1883", plan.mqttUrl());

    ConfigException both =
        assertThrows(
            ConfigException.class,
            () -> ConfigStager.stageHub(etc, options(1884, null, null, null), data));
    assertTrue(both.getMessage().contains("remove one of them"), both.getMessage());

    Files.writeString(etc.resolve("org.gantry.hub.cfg"), "mqtt.url = http://mosquitto\n");
    ConfigException bad =
        assertThrows(
            ConfigException.class,
            () -> ConfigStager.stageHub(etc, options(null, null, null, null), data));
    assertTrue(
        bad.getMessage().startsWith("bad mqtt.url in " + etc.resolve("org.gantry.hub.cfg") + ": "),
        bad.getMessage());
  }

  @Test
  void aWildcardBrokerAddressIsReachedOnLoopbackAndIpv6IsBracketed() throws Exception {
    Files.writeString(etc.resolve("org.gantry.broker.cfg"), "host = 0.0.0.0\nport = 1883\n");
    assertEquals(
        "tcp://127.0.0.1:1883",
        ConfigStager.stageHub(etc, options(null, null, null, null), data).mqttUrl());
    Files.writeString(etc.resolve("org.gantry.broker.cfg"), "host = ::1\nport = 1883\n");
    assertEquals(
        "tcp://[::1]:1883",
        ConfigStager.stageHub(etc, options(null, null, null, null), data).mqttUrl());
  }

  @Test
  void theBrokerAndTheApiCannotShareAPort() throws Exception {
    Files.writeString(etc.resolve("org.gantry.hub.cfg"), "api.port = 1883\n");
    ConfigException e =
        assertThrows(
            ConfigException.class,
            () -> ConfigStager.stageHub(etc, options(null, null, null, null), data));
    assertTrue(e.getMessage().contains("both listen on port 1883"), e.getMessage());
  }

  @Test
  void theGatewayLeavesTheHubsFilesOut() throws Exception {
    List<ConfigStager.Staged> staged =
        ConfigStager.stage(
            etc,
            new GatewayOptions(
                Optional.empty(),
                Optional.of("t"),
                Optional.empty(),
                Optional.empty(),
                false,
                Map.of()),
            data);
    assertEquals(
        List.of(
            "org.gantry.engine.cfg", "org.gantry.transport.mqtt.cfg", "org.ops4j.pax.logging.cfg"),
        staged.stream().map(ConfigStager.Staged::name).toList());
  }
}
