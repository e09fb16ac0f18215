package org.gantry.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FeaturesRepositoryTest {

  private static final String NS = "http://karaf.apache.org/xmlns/features/v1.6.0";

  private static FeaturesRepository repo(String body) throws Exception {
    return repo(NS, body);
  }

  private static FeaturesRepository repo(String namespace, String body) throws Exception {
    String xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<features name=\"test\""
            + (namespace == null ? "" : " xmlns=\"" + namespace + "\"")
            + ">\n"
            + body
            + "\n</features>\n";
    return FeaturesRepository.read(
        new ByteArrayInputStream(xml.getBytes(StandardCharsets.UTF_8)), "test.xml");
  }

  private static List<String> locations(List<FeatureBundle> bundles) {
    return bundles.stream().map(FeatureBundle::location).toList();
  }

  private static final String PLATFORM_AND_GATEWAY =
      """
      <feature name="platform" version="1.0">
        <bundle start-level="8" dependency="true">mvn:org.ops4j.pax.logging/pax-logging-api/2.2.7</bundle>
        <bundle start-level="13">mvn:org.apache.felix/org.apache.felix.scr/2.2.18</bundle>
      </feature>
      <feature name="gateway" version="1.0">
        <feature>platform</feature>
        <bundle>mvn:com.google.code.gson/gson/2.15.0</bundle>
        <bundle>mvn:org.gantry/org.gantry.api/1.0</bundle>
        <bundle>mvn:org.gantry/org.gantry.engine/1.0</bundle>
      </feature>
      <feature name="op" version="1.0">
        <feature>platform</feature>
        <bundle>mvn:org.gantry/org.gantry.api/1.0/jar</bundle>
        <bundle>mvn:org.gantry/org.gantry.op.diagnostics/1.0</bundle>
      </feature>
      """;

  @Test
  void dependenciesComeFirstThenOwnBundlesInFileOrder() throws Exception {
    List<FeatureBundle> bundles = repo(PLATFORM_AND_GATEWAY).bundles("gateway");
    assertEquals(
        List.of(
            "mvn:org.ops4j.pax.logging/pax-logging-api/2.2.7",
            "mvn:org.apache.felix/org.apache.felix.scr/2.2.18",
            "mvn:com.google.code.gson/gson/2.15.0",
            "mvn:org.gantry/org.gantry.api/1.0",
            "mvn:org.gantry/org.gantry.engine/1.0"),
        locations(bundles));
  }

  @Test
  void aBundleOrFeatureReachedTwiceIsListedOnce() throws Exception {
    List<FeatureBundle> bundles = repo(PLATFORM_AND_GATEWAY).bundles("gateway", "op");
    assertEquals(
        List.of(
            "mvn:org.ops4j.pax.logging/pax-logging-api/2.2.7",
            "mvn:org.apache.felix/org.apache.felix.scr/2.2.18",
            "mvn:com.google.code.gson/gson/2.15.0",
            "mvn:org.gantry/org.gantry.api/1.0",
            "mvn:org.gantry/org.gantry.engine/1.0",
            "mvn:org.gantry/org.gantry.op.diagnostics/1.0"),
        locations(bundles));
  }

  @Test
  void orderOfTheRequestDecidesOrderOfTheResult() throws Exception {
    List<String> opFirst = locations(repo(PLATFORM_AND_GATEWAY).bundles("op", "gateway"));
    assertEquals("mvn:org.gantry/org.gantry.api/1.0", opFirst.get(2));
    assertEquals("mvn:org.gantry/org.gantry.op.diagnostics/1.0", opFirst.get(3));
    assertEquals("mvn:org.gantry/org.gantry.engine/1.0", opFirst.get(5));
  }

  @Test
  void attributesAreRead() throws Exception {
    FeaturesRepository r =
        repo(
            """
            <feature name="f">
              <bundle start-level="8" dependency="true">mvn:g/a/1</bundle>
              <bundle start="false">mvn:g/b/1</bundle>
              <bundle dependency="false" start="true">mvn:g/c/1</bundle>
            </feature>
            """);
    List<FeatureBundle> b = r.bundles("f");
    assertEquals(
        new FeatureBundle(MavenCoordinates.parse("mvn:g/a/1"), OptionalInt.of(8), true, true),
        b.get(0));
    assertEquals(
        new FeatureBundle(MavenCoordinates.parse("mvn:g/b/1"), OptionalInt.empty(), false, false),
        b.get(1));
    assertEquals(
        new FeatureBundle(MavenCoordinates.parse("mvn:g/c/1"), OptionalInt.empty(), true, false),
        b.get(2));
  }

  @Test
  void allBundlesListsEveryBundleOnce() throws Exception {
    FeaturesRepository r = repo(PLATFORM_AND_GATEWAY);
    assertEquals(6, r.allBundles().size());
    assertEquals(List.of("platform", "gateway", "op"), r.featureNames());
    assertEquals("test", r.name());
  }

  @Test
  void namespaceDoesNotMatter() throws Exception {
    String body = "<feature name=\"f\"><bundle>mvn:g/a/1</bundle></feature>";
    for (String ns : new String[] {null, NS, "http://karaf.apache.org/xmlns/features/v1.3.0"}) {
      assertEquals(
          List.of("mvn:g/a/1"), locations(repo(ns, body).bundles("f")), String.valueOf(ns));
    }
  }

  @Test
  void aCycleIsRefusedAndShown() throws Exception {
    FeaturesRepository r =
        repo(
            """
            <feature name="a" version="1"><feature>b</feature><bundle>mvn:g/a/1</bundle></feature>
            <feature name="b" version="1"><feature>c</feature></feature>
            <feature name="c" version="1"><feature>a</feature></feature>
            """);
    FeaturesException e = assertThrows(FeaturesException.class, () -> r.bundles("a"));
    assertTrue(e.getMessage().contains("cycle"), e.getMessage());
    assertTrue(e.getMessage().contains("a/1 -> b/1 -> c/1 -> a/1"), e.getMessage());
    assertThrows(FeaturesException.class, r::allBundles);
  }

  @Test
  void aFeatureDependingOnItselfIsACycle() throws Exception {
    FeaturesRepository r = repo("<feature name=\"a\"><feature>a</feature></feature>");
    FeaturesException e = assertThrows(FeaturesException.class, () -> r.bundles("a"));
    assertTrue(e.getMessage().contains("a/0.0.0 -> a/0.0.0"), e.getMessage());
  }

  @Test
  void aDiamondIsNotACycle() throws Exception {
    FeaturesRepository r =
        repo(
            """
            <feature name="top"><feature>left</feature><feature>right</feature></feature>
            <feature name="left"><feature>base</feature><bundle>mvn:g/l/1</bundle></feature>
            <feature name="right"><feature>base</feature><bundle>mvn:g/r/1</bundle></feature>
            <feature name="base"><bundle>mvn:g/b/1</bundle></feature>
            """);
    assertEquals(List.of("mvn:g/b/1", "mvn:g/l/1", "mvn:g/r/1"), locations(r.bundles("top")));
  }

  @Test
  void anUndefinedFeatureIsNamedWithWhoNeedsIt() throws Exception {
    FeaturesRepository r =
        repo("<feature name=\"a\" version=\"2\"><feature>missing</feature></feature>");
    FeaturesException e = assertThrows(FeaturesException.class, () -> r.bundles("a"));
    assertTrue(e.getMessage().contains("'missing' is not defined"), e.getMessage());
    assertTrue(e.getMessage().contains("a/2 depends on it"), e.getMessage());
    FeaturesException top = assertThrows(FeaturesException.class, () -> r.bundles("nope"));
    assertTrue(top.getMessage().contains("it defines: a"), top.getMessage());
  }

  @Test
  void versionsAreChosenExactlyOrMustBeUnambiguous() throws Exception {
    FeaturesRepository r =
        repo(
            """
            <feature name="lib" version="1.0"><bundle>mvn:g/lib/1.0</bundle></feature>
            <feature name="lib" version="2.0"><bundle>mvn:g/lib/2.0</bundle></feature>
            <feature name="user"><feature version="2.0">lib</feature></feature>
            <feature name="vague"><feature>lib</feature></feature>
            <feature name="wrong"><feature version="3.0">lib</feature></feature>
            """);
    assertEquals(List.of("mvn:g/lib/2.0"), locations(r.bundles("user")));
    assertEquals(List.of("mvn:g/lib/1.0"), locations(r.bundles("lib/1.0")));
    assertTrue(
        assertThrows(FeaturesException.class, () -> r.bundles("vague"))
            .getMessage()
            .contains("defined in 2 versions"));
    assertTrue(
        assertThrows(FeaturesException.class, () -> r.bundles("wrong"))
            .getMessage()
            .contains("versions defined: 1.0, 2.0"));
  }

  @Test
  void theSameFeatureTwiceIsRefused() {
    FeaturesException e =
        assertThrows(
            FeaturesException.class,
            () -> repo("<feature name=\"a\" version=\"1\"/><feature name=\"a\" version=\"1\"/>"));
    assertTrue(e.getMessage().contains("defines feature a/1 twice"), e.getMessage());
  }

  @Test
  void malformedXmlIsRefusedWithItsPosition() {
    FeaturesException e =
        assertThrows(
            FeaturesException.class, () -> repo("<feature name=\"a\"><bundle>mvn:g/a/1</feature>"));
    assertTrue(
        e.getMessage().startsWith("test.xml is not a usable XML file (line "), e.getMessage());
  }

  @Test
  void aDoctypeIsRefusedSoNoExternalEntityIsRead(@TempDir Path dir) throws Exception {
    Path secret = dir.resolve("secret.txt");
    Files.writeString(secret, "mvn:g/stolen/1");
    String xml =
        "<?xml version=\"1.0\"?>\n<!DOCTYPE features [<!ENTITY x SYSTEM \""
            + secret.toUri()
            + "\">]>\n<features><feature name=\"f\"><bundle>&x;</bundle></feature></features>";
    Path file = dir.resolve("features.xml");
    Files.writeString(file, xml);
    FeaturesException e =
        assertThrows(FeaturesException.class, () -> FeaturesRepository.read(file));
    assertTrue(e.getMessage().contains("DOCTYPE"), e.getMessage());
    assertFalse(e.getMessage().contains("stolen"), e.getMessage());
  }

  @Test
  void elementsThatOnlyKarafHonoursAreRefused() {
    for (String element :
        List.of(
            "<config name=\"x\">a=b</config>",
            "<configfile finalname=\"/etc/x.cfg\">mvn:g/x/1/cfg</configfile>",
            "<conditional><condition>x</condition></conditional>",
            "<requirement>osgi.ee</requirement>")) {
      FeaturesException e =
          assertThrows(
              FeaturesException.class, () -> repo("<feature name=\"f\">" + element + "</feature>"));
      assertTrue(e.getMessage().contains("only Karaf's features service honours"), e.getMessage());
    }
    FeaturesException repoRef =
        assertThrows(
            FeaturesException.class,
            () -> repo("<repository>mvn:g/other/1/xml/features</repository>"));
    assertTrue(repoRef.getMessage().contains("refers to another repository"), repoRef.getMessage());
  }

  @Test
  void detailsAndCapabilitiesAreIgnored() throws Exception {
    FeaturesRepository r =
        repo(
            "<feature name=\"f\"><details>text</details><capability>x</capability>"
                + "<bundle>mvn:g/a/1</bundle></feature>");
    assertEquals(List.of("mvn:g/a/1"), locations(r.bundles("f")));
  }

  @Test
  void badBundleEntriesAreRefusedWithTheFeatureName() {
    record Case(String bundle, String reason) {}
    for (Case c :
        List.of(
            new Case("<bundle>wrap:mvn:g/a/1</bundle>", "does not start with mvn:"),
            new Case("<bundle>mvn:g/a</bundle>", "2 segments"),
            new Case("<bundle start-level=\"0\">mvn:g/a/1</bundle>", "start-level '0'"),
            new Case("<bundle start-level=\"high\">mvn:g/a/1</bundle>", "start-level 'high'"),
            new Case("<bundle start=\"yes\">mvn:g/a/1</bundle>", "start='yes'"),
            new Case("<bundel>mvn:g/a/1</bundel>", "unknown element <bundel>"))) {
      FeaturesException e =
          assertThrows(
              FeaturesException.class,
              () -> repo("<feature name=\"f\">" + c.bundle() + "</feature>"));
      assertTrue(e.getMessage().contains(c.reason()), e.getMessage());
      assertTrue(e.getMessage().contains("feature f"), e.getMessage());
    }
  }

  @Test
  void theRootMustBeFeatures() {
    FeaturesException e =
        assertThrows(
            FeaturesException.class,
            () ->
                FeaturesRepository.read(
                    new ByteArrayInputStream("<project/>".getBytes(StandardCharsets.UTF_8)),
                    "pom.xml"));
    assertTrue(e.getMessage().contains("root element is <project>"), e.getMessage());
  }

  @Test
  void aMissingFileIsAnIoError(@TempDir Path dir) {
    assertThrows(IOException.class, () -> FeaturesRepository.read(dir.resolve("none.xml")));
  }
}
