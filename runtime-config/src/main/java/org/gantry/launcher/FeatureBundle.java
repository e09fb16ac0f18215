package org.gantry.launcher;

import java.util.Objects;
import java.util.OptionalInt;

/**
 * One {@code <bundle>} of a feature.
 *
 * @param coordinates where the bundle comes from
 * @param startLevel the {@code start-level} attribute, if the feature gives one; otherwise the
 *     framework's default bundle start level applies
 * @param start false when the feature says {@code start="false"}: install, do not start
 * @param dependency the {@code dependency} attribute: Karaf installs such a bundle only when
 *     nothing else satisfies what needs it; a plain framework installs it like any other
 */
public record FeatureBundle(
    MavenCoordinates coordinates, OptionalInt startLevel, boolean start, boolean dependency) {

  public FeatureBundle {
    Objects.requireNonNull(coordinates, "coordinates");
    Objects.requireNonNull(startLevel, "startLevel");
  }

  /** The bundle's canonical {@code mvn:} location. */
  public String location() {
    return coordinates.toString();
  }
}
