package org.gantry.hub.internal;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The validated ACL file settings.
 *
 * @param file the ACL file, absolute; null when the hub writes none ({@code acl.file} empty)
 * @param admins {@code acl.admin.principals}: principals allowed every thing's jobs topics
 * @param reloadCommand {@code acl.reload.command} split on spaces (run without a shell); empty for
 *     none
 */
record AclSettings(Path file, List<String> admins, List<String> reloadCommand) {
  /** How long the reload command may run. */
  static final long RELOAD_TIMEOUT_MILLIS = 10_000;

  AclSettings {
    admins = List.copyOf(admins);
    reloadCommand = List.copyOf(reloadCommand);
    for (String a : admins) {
      if (!Principals.isValid(a)) {
        throw new IllegalArgumentException(
            "acl.admin.principals must be principals of 1-128 characters of [a-zA-Z0-9:_.-],"
                + " got "
                + Texts.clip(a));
      }
    }
  }

  /** No ACL file. */
  static AclSettings none() {
    return new AclSettings(null, List.of("gantry-hub"), List.of());
  }

  static AclSettings of(String file, String admins, String reloadCommand) {
    List<String> a = split(admins, ",");
    if (file != null && !file.isBlank() && a.isEmpty()) {
      throw new IllegalArgumentException(
          "acl.admin.principals must name at least the hub's own principal, e.g. gantry-hub");
    }
    return new AclSettings(
        file == null || file.isBlank() ? null : Path.of(file.trim()).toAbsolutePath(),
        a,
        split(reloadCommand, " "));
  }

  private static List<String> split(String s, String separator) {
    List<String> out = new ArrayList<>();
    if (s == null) {
      return out;
    }
    for (String part : s.split(separator.equals(" ") ? "\\s+" : separator)) {
      if (!part.isBlank()) {
        out.add(part.trim());
      }
    }
    return out;
  }
}
