package org.gantry.launcher;

import java.util.List;

/**
 * A role the runtime can run, and the features that make it. The bundles come from the features
 * repository; a role only names features.
 */
public enum Role {
  /** The device side: transport, job documents, engine, and the operations shipped with it. */
  GATEWAY("gateway", List.of("gantry-gateway", "gantry-op-diagnostics")),

  /**
   * The self-hosted control plane: the embedded broker (when no external one is named) and the hub
   * with its device and management APIs.
   */
  HUB("hub", List.of("gantry-hub"));

  /** The feature added by {@code --shell}: the Gogo shell on the console. */
  public static final String SHELL_FEATURE = "gantry-shell";

  private final String command;

  // List.of: immutable, though the checker cannot see it
  @SuppressWarnings("ImmutableEnumChecker")
  private final List<String> features;

  Role(String command, List<String> features) {
    this.command = command;
    this.features = features;
  }

  /** The {@code bin/gantry} command that runs this role. */
  public String command() {
    return command;
  }

  /** The features to install, in order. */
  public List<String> features() {
    return features;
  }
}
