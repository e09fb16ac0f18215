package org.gantry.launcher;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The coordinates of one artifact, as a features repository names it: {@code
 * mvn:group/artifact/version[/type[/classifier]]}, with {@code jar} as the default type.
 *
 * <p>Only plain, fixed coordinates are accepted: no repository prefix ({@code mvn:url!...}), no
 * version ranges, no {@code LATEST}/{@code RELEASE}. The launcher finds artifacts in a folder,
 * where neither could be resolved, and a segment that could step out of that folder is refused too.
 * Instances are immutable and compare by value ({@code mvn:g/a/v} equals {@code mvn:g/a/v/jar}).
 */
public final class MavenCoordinates {

  private static final String PREFIX = "mvn:";
  private static final String DEFAULT_TYPE = "jar";
  private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9._+-]*");

  private final String groupId;
  private final String artifactId;
  private final String version;
  private final String type;
  private final String classifier;

  private MavenCoordinates(
      String groupId, String artifactId, String version, String type, String classifier) {
    this.groupId = groupId;
    this.artifactId = artifactId;
    this.version = version;
    this.type = type;
    this.classifier = classifier;
  }

  /**
   * Parses a {@code mvn:} location.
   *
   * @param location {@code mvn:group/artifact/version[/type[/classifier]]}; an empty type means
   *     {@code jar}
   * @return the coordinates
   * @throws IllegalArgumentException if the location is not of that form; the message says why
   */
  public static MavenCoordinates parse(String location) {
    Objects.requireNonNull(location, "location");
    String text = location.trim();
    if (!text.startsWith(PREFIX)) {
      throw bad(location, "it does not start with mvn:");
    }
    String body = text.substring(PREFIX.length());
    if (body.indexOf('!') >= 0) {
      throw bad(
          location, "a repository prefix (url!) is not supported; the launcher reads system/");
    }
    String[] parts = body.split("/", -1);
    if (parts.length < 3 || parts.length > 5) {
      throw bad(location, "it has " + parts.length + " segments, expected 3 to 5");
    }
    String groupId = parts[0];
    for (String groupPart : groupId.split("\\.", -1)) {
      if (!SEGMENT.matcher(groupPart).matches()) {
        throw bad(location, "group '" + groupId + "' is not a dotted name");
      }
    }
    String artifactId = segment(location, "artifact", parts[1], false);
    String version = segment(location, "version", parts[2], false);
    if (version.equals("LATEST") || version.equals("RELEASE")) {
      throw bad(location, "version " + version + " is not a fixed version");
    }
    String type = parts.length > 3 ? segment(location, "type", parts[3], true) : "";
    String classifier = parts.length > 4 ? segment(location, "classifier", parts[4], true) : "";
    return new MavenCoordinates(
        groupId, artifactId, version, type.isEmpty() ? DEFAULT_TYPE : type, classifier);
  }

  private static String segment(String location, String what, String value, boolean mayBeEmpty) {
    if (value.isEmpty() && mayBeEmpty) {
      return value;
    }
    if (!SEGMENT.matcher(value).matches()) {
      String why =
          value.isEmpty()
              ? what + " is empty"
              : what
                  + " '"
                  + value
                  + "' is not a plain name (letters, digits and . _ + -, not starting with . + -)"
                  + (value.matches(".*[\\[\\](),].*") ? " (version ranges are not supported)" : "");
      throw bad(location, why);
    }
    return value;
  }

  private static IllegalArgumentException bad(String location, String why) {
    return new IllegalArgumentException(
        "bad Maven location '"
            + location
            + "': "
            + why
            + " (expected mvn:group/artifact/version[/type[/classifier]])");
  }

  public String groupId() {
    return groupId;
  }

  public String artifactId() {
    return artifactId;
  }

  public String version() {
    return version;
  }

  /** The artifact's type, which is also its file extension; {@code jar} unless given. */
  public String type() {
    return type;
  }

  public Optional<String> classifier() {
    return classifier.isEmpty() ? Optional.empty() : Optional.of(classifier);
  }

  /** The file name in a Maven repository: {@code artifact-version[-classifier].type}. */
  public String fileName() {
    return artifactId + "-" + version + (classifier.isEmpty() ? "" : "-" + classifier) + "." + type;
  }

  /**
   * Where this artifact lies in a folder with the layout of a local Maven repository ({@code
   * ~/.m2/repository}, or a runtime's {@code system/}): {@code root/g/r/o/u/p/artifact/version/}
   * {@link #fileName()}. The file need not exist.
   *
   * @param m2LayoutRoot the repository's root folder
   * @return the artifact's path under that root
   */
  public Path resolveIn(Path m2LayoutRoot) {
    Path dir = m2LayoutRoot;
    for (String groupPart : groupId.split("\\.", -1)) {
      dir = dir.resolve(groupPart);
    }
    return dir.resolve(artifactId).resolve(version).resolve(fileName());
  }

  /** The canonical {@code mvn:} location; type and classifier appear only when needed. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder(PREFIX);
    sb.append(groupId).append('/').append(artifactId).append('/').append(version);
    if (!classifier.isEmpty()) {
      sb.append('/').append(type).append('/').append(classifier);
    } else if (!type.equals(DEFAULT_TYPE)) {
      sb.append('/').append(type);
    }
    return sb.toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof MavenCoordinates other
        && groupId.equals(other.groupId)
        && artifactId.equals(other.artifactId)
        && version.equals(other.version)
        && type.equals(other.type)
        && classifier.equals(other.classifier);
  }

  @Override
  public int hashCode() {
    return Objects.hash(groupId, artifactId, version, type, classifier);
  }
}
