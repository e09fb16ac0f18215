package org.gantry.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Collectors;
import javax.xml.XMLConstants;
import javax.xml.parsers.DocumentBuilder;
import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.parsers.ParserConfigurationException;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;
import org.xml.sax.ErrorHandler;
import org.xml.sax.SAXException;
import org.xml.sax.SAXParseException;

/**
 * A Karaf features repository ({@code features.xml}), read for a plain OSGi framework: which
 * bundles, in which order and at which start levels, make a set of features.
 *
 * <p>It reads {@code <feature>} elements with their {@code <feature>} dependencies and {@code
 * <bundle>} entries, in any version of the features namespace (or none). Elements that only Karaf's
 * features service could honour ({@code <config>}, {@code <configfile>}, {@code <conditional>},
 * {@code <library>}, {@code <requirement>}, {@code <scoping>}, other {@code <repository>} files)
 * are refused when the file is read rather than silently ignored; {@code <details>} and {@code
 * <capability>} are ignored. Every bundle location must be a plain {@code mvn:} location (see
 * {@link MavenCoordinates}). DOCTYPE declarations are refused, so no external entity is ever read.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class FeaturesRepository {

  private static final Set<String> UNSUPPORTED_IN_FEATURE =
      Set.of("config", "configfile", "conditional", "library", "requirement", "scoping");
  private static final Set<String> IGNORED_IN_FEATURE = Set.of("details", "capability");
  private static final String DEFAULT_VERSION = "0.0.0";

  private record Dependency(String name, String version) {}

  private record Feature(
      String name, String version, List<Dependency> dependencies, List<FeatureBundle> bundles) {
    String id() {
      return name + "/" + version;
    }
  }

  private final String source;
  private final String name;
  private final List<Feature> features;

  private FeaturesRepository(String source, String name, List<Feature> features) {
    this.source = source;
    this.name = name;
    this.features = List.copyOf(features);
  }

  /**
   * Reads a features repository from a file.
   *
   * @throws IOException if the file cannot be read
   * @throws FeaturesException if it is not a features repository the launcher can use
   */
  public static FeaturesRepository read(Path file) throws IOException, FeaturesException {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in, file.toString());
    }
  }

  /**
   * Reads a features repository from a stream, which is not closed.
   *
   * @param source names the stream in error messages (a file name or URL)
   * @throws IOException if the stream cannot be read
   * @throws FeaturesException if it is not a features repository the launcher can use
   */
  public static FeaturesRepository read(InputStream in, String source)
      throws IOException, FeaturesException {
    Objects.requireNonNull(in, "in");
    Objects.requireNonNull(source, "source");
    Document doc = parseXml(in, source);
    Element root = doc.getDocumentElement();
    if (!"features".equals(localName(root))) {
      throw new FeaturesException(
          source + " is not a features repository: its root element is <" + localName(root) + ">");
    }
    List<Feature> features = new ArrayList<>();
    Set<String> ids = new HashSet<>();
    for (Element child : children(root)) {
      String element = localName(child);
      switch (element) {
        case "feature" -> {
          Feature feature = readFeature(child, source);
          if (!ids.add(feature.id())) {
            throw new FeaturesException(
                source
                    + " defines feature "
                    + feature.id()
                    + " twice; give each a distinct version");
          }
          features.add(feature);
        }
        case "repository", "resource-repository" ->
            throw new FeaturesException(
                source
                    + " refers to another repository ("
                    + child.getTextContent().trim()
                    + "); the launcher reads one self-contained features file");
        default ->
            throw new FeaturesException(
                source + " has an unknown element <" + element + "> under <features>");
      }
    }
    return new FeaturesRepository(source, root.getAttribute("name"), features);
  }

  private static Document parseXml(InputStream in, String source)
      throws IOException, FeaturesException {
    DocumentBuilderFactory factory = DocumentBuilderFactory.newInstance();
    try {
      factory.setNamespaceAware(true);
      // No DOCTYPE at all: this is what closes the door on external entities (XXE) and entity
      // bombs.
      factory.setFeature("http://apache.org/xml/features/disallow-doctype-decl", true);
      factory.setFeature(XMLConstants.FEATURE_SECURE_PROCESSING, true);
      factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_DTD, "");
      factory.setAttribute(XMLConstants.ACCESS_EXTERNAL_SCHEMA, "");
      factory.setXIncludeAware(false);
      factory.setExpandEntityReferences(false);
      DocumentBuilder builder = factory.newDocumentBuilder();
      // The default handler prints to stderr before throwing; one clear exception is enough.
      builder.setErrorHandler(
          new ErrorHandler() {
            @Override
            public void warning(SAXParseException e) {}

            @Override
            public void error(SAXParseException e) throws SAXException {
              throw e;
            }

            @Override
            public void fatalError(SAXParseException e) throws SAXException {
              throw e;
            }
          });
      return builder.parse(in, source);
    } catch (ParserConfigurationException e) {
      throw new IllegalStateException("the JDK's XML parser lacks a required safety feature", e);
    } catch (SAXParseException e) {
      throw new FeaturesException(
          source
              + " is not a usable XML file (line "
              + e.getLineNumber()
              + ", column "
              + e.getColumnNumber()
              + "): "
              + e.getMessage(),
          e);
    } catch (SAXException e) {
      throw new FeaturesException(source + " is not a usable XML file: " + e.getMessage(), e);
    }
  }

  private static Feature readFeature(Element element, String source) throws FeaturesException {
    String name = element.getAttribute("name").trim();
    if (name.isEmpty()) {
      throw new FeaturesException(source + " has a <feature> without a name");
    }
    String version = element.getAttribute("version").trim();
    if (version.isEmpty()) {
      version = DEFAULT_VERSION;
    }
    String where = source + ", feature " + name;
    List<Dependency> dependencies = new ArrayList<>();
    List<FeatureBundle> bundles = new ArrayList<>();
    for (Element child : children(element)) {
      String kind = localName(child);
      if (kind.equals("feature")) {
        String dependency = child.getTextContent().trim();
        if (dependency.isEmpty()) {
          throw new FeaturesException(where + ": a <feature> dependency has no name");
        }
        String dependencyVersion = child.getAttribute("version").trim();
        dependencies.add(
            new Dependency(dependency, dependencyVersion.isEmpty() ? null : dependencyVersion));
      } else if (kind.equals("bundle")) {
        bundles.add(readBundle(child, where));
      } else if (UNSUPPORTED_IN_FEATURE.contains(kind)) {
        throw new FeaturesException(
            where
                + " uses <"
                + kind
                + ">, which only Karaf's features service honours; the Gantry launcher runs a"
                + " plain Felix and cannot");
      } else if (!IGNORED_IN_FEATURE.contains(kind)) {
        throw new FeaturesException(where + " has an unknown element <" + kind + ">");
      }
    }
    return new Feature(name, version, List.copyOf(dependencies), List.copyOf(bundles));
  }

  private static FeatureBundle readBundle(Element element, String where) throws FeaturesException {
    String location = element.getTextContent().trim();
    MavenCoordinates coordinates;
    try {
      coordinates = MavenCoordinates.parse(location);
    } catch (IllegalArgumentException e) {
      throw new FeaturesException(where + ": " + e.getMessage(), e);
    }
    OptionalInt startLevel = OptionalInt.empty();
    String level = element.getAttribute("start-level").trim();
    if (!level.isEmpty()) {
      int value;
      try {
        value = Integer.parseInt(level);
      } catch (NumberFormatException e) {
        value = 0;
      }
      if (value < 1) {
        throw new FeaturesException(
            where
                + ": bundle "
                + location
                + " has start-level '"
                + level
                + "'; it must be a whole number of at least 1");
      }
      startLevel = OptionalInt.of(value);
    }
    boolean start = bool(element, "start", true, where, location);
    boolean dependency = bool(element, "dependency", false, where, location);
    return new FeatureBundle(coordinates, startLevel, start, dependency);
  }

  private static boolean bool(
      Element element, String attribute, boolean absent, String where, String location)
      throws FeaturesException {
    String value = element.getAttribute(attribute).trim().toLowerCase(Locale.ROOT);
    return switch (value) {
      case "" -> absent;
      case "true", "1" -> true;
      case "false", "0" -> false;
      default ->
          throw new FeaturesException(
              where
                  + ": bundle "
                  + location
                  + " has "
                  + attribute
                  + "='"
                  + value
                  + "'; use true or false");
    };
  }

  private static List<Element> children(Element parent) {
    List<Element> result = new ArrayList<>();
    for (Node n = parent.getFirstChild(); n != null; n = n.getNextSibling()) {
      if (n.getNodeType() == Node.ELEMENT_NODE) {
        result.add((Element) n);
      }
    }
    return result;
  }

  private static String localName(Node node) {
    String local = node.getLocalName();
    return local != null ? local : node.getNodeName();
  }

  /** The {@code name} attribute of the root element; empty if it has none. */
  public String name() {
    return name;
  }

  /** The names of the features defined, in the order of the file, each once. */
  public List<String> featureNames() {
    return features.stream().map(Feature::name).distinct().toList();
  }

  /**
   * The bundles of the given features and of every feature they depend on, recursively.
   *
   * <p>Order: for each feature named, in the order given, first the bundles of its dependencies
   * (depth first, in the order the feature lists them), then its own, in the order of the file. A
   * bundle that appears more than once (the same coordinates) is listed once, where it first
   * appears, with the attributes of that first appearance.
   *
   * @param featureNames each either {@code name} or {@code name/version}; a name alone must not be
   *     defined in more than one version
   * @return the bundles, immutable
   * @throws FeaturesException if a feature is not defined, a name is ambiguous, or the dependencies
   *     form a cycle
   */
  public List<FeatureBundle> bundles(List<String> featureNames) throws FeaturesException {
    Map<MavenCoordinates, FeatureBundle> result = new LinkedHashMap<>();
    Set<String> done = new HashSet<>();
    for (String featureName : featureNames) {
      int slash = featureName.indexOf('/');
      Dependency wanted =
          slash < 0
              ? new Dependency(featureName.trim(), null)
              : new Dependency(
                  featureName.substring(0, slash).trim(), featureName.substring(slash + 1).trim());
      collect(find(wanted, null), new ArrayList<>(), done, result);
    }
    return List.copyOf(result.values());
  }

  /** Same as {@link #bundles(List)}. */
  public List<FeatureBundle> bundles(String... featureNames) throws FeaturesException {
    return bundles(Arrays.asList(featureNames));
  }

  /**
   * Every bundle named anywhere in the repository, each once, features taken in the order of the
   * file (with their dependencies first, as in {@link #bundles(List)}).
   *
   * @throws FeaturesException if a dependency is not defined or the dependencies form a cycle
   */
  public List<FeatureBundle> allBundles() throws FeaturesException {
    Map<MavenCoordinates, FeatureBundle> result = new LinkedHashMap<>();
    Set<String> done = new HashSet<>();
    for (Feature feature : features) {
      collect(feature, new ArrayList<>(), done, result);
    }
    return List.copyOf(result.values());
  }

  private void collect(
      Feature feature,
      List<String> path,
      Set<String> done,
      Map<MavenCoordinates, FeatureBundle> result)
      throws FeaturesException {
    int seen = path.indexOf(feature.id());
    if (seen >= 0) {
      List<String> cycle = new ArrayList<>(path.subList(seen, path.size()));
      cycle.add(feature.id());
      throw new FeaturesException(
          source + " has a cycle of feature dependencies: " + String.join(" -> ", cycle));
    }
    if (done.contains(feature.id())) {
      return;
    }
    path.add(feature.id());
    for (Dependency dependency : feature.dependencies()) {
      collect(find(dependency, feature), path, done, result);
    }
    for (FeatureBundle bundle : feature.bundles()) {
      result.putIfAbsent(bundle.coordinates(), bundle);
    }
    path.remove(path.size() - 1);
    done.add(feature.id());
  }

  private Feature find(Dependency wanted, Feature from) throws FeaturesException {
    String neededBy = from == null ? "" : " (" + from.id() + " depends on it)";
    List<Feature> candidates =
        features.stream().filter(f -> f.name().equals(wanted.name())).toList();
    if (candidates.isEmpty()) {
      throw new FeaturesException(
          "feature '"
              + wanted.name()
              + "' is not defined in "
              + source
              + neededBy
              + "; it defines: "
              + String.join(", ", new LinkedHashSet<>(featureNames())));
    }
    if (wanted.version() != null) {
      for (Feature candidate : candidates) {
        if (candidate.version().equals(wanted.version())) {
          return candidate;
        }
      }
      throw new FeaturesException(
          "feature '"
              + wanted.name()
              + "' version "
              + wanted.version()
              + " is not defined in "
              + source
              + neededBy
              + "; versions defined: "
              + candidates.stream().map(Feature::version).collect(Collectors.joining(", ")));
    }
    if (candidates.size() > 1) {
      throw new FeaturesException(
          "feature '"
              + wanted.name()
              + "' is defined in "
              + candidates.size()
              + " versions in "
              + source
              + neededBy
              + "; name one as name/version");
    }
    return candidates.get(0);
  }

  @Override
  public String toString() {
    return "FeaturesRepository[" + source + ", " + featureNames() + "]";
  }
}
