package org.gantry.broker.internal;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * An immutable set of authorisation rules read from a file in the subset of Mosquitto's {@code
 * acl_file} syntax that the Gantry hub writes:
 *
 * <pre>
 * # comment
 * user gateway-7
 * topic readwrite $aws/things/gateway-7/jobs/#
 * topic read $aws/things/sensor-1/jobs/notify
 * pattern readwrite $aws/things/%u/shadow/#
 * </pre>
 *
 * <p>{@code topic} lines grant to the principal of the {@code user} line above them; {@code
 * pattern} lines grant to every principal, with {@code %u} replaced by the principal and {@code %c}
 * by the client id (a pattern does not apply when the value would contain {@code / + #}, as in
 * Mosquitto). The access word is {@code read}, {@code write} or {@code readwrite} (the default when
 * left out); Mosquitto's {@code deny} and topic lines before the first {@code user} (its anonymous
 * rules) are refused rather than half-supported. Everything not granted is refused.
 */
final class AclRules {

  /** Access a rule grants. */
  enum Access {
    READ,
    WRITE,
    READWRITE;

    boolean allowsRead() {
      return this != WRITE;
    }

    boolean allowsWrite() {
      return this != READ;
    }
  }

  private record Rule(Access access, String filter) {}

  /** A line of the file that cannot be used; the file is then not used at all. */
  static final class SyntaxException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int line;

    SyntaxException(int line, String reason) {
      super("line " + line + ": " + reason);
      this.line = line;
    }

    int line() {
      return line;
    }
  }

  /** Rules that grant nothing to anyone: in force until a first ACL file has been read. */
  static final AclRules DENY_ALL = new AclRules(Map.of(), List.of());

  private final Map<String, List<Rule>> byPrincipal;
  private final List<Rule> patterns;

  private AclRules(Map<String, List<Rule>> byPrincipal, List<Rule> patterns) {
    this.byPrincipal = byPrincipal;
    this.patterns = patterns;
  }

  /**
   * Parses the lines of an ACL file.
   *
   * @throws SyntaxException naming the first line that is not understood and why
   */
  static AclRules parse(List<String> lines) throws SyntaxException {
    Map<String, List<Rule>> byPrincipal = new LinkedHashMap<>();
    List<Rule> patterns = new ArrayList<>();
    String user = null;
    for (int i = 0; i < lines.size(); i++) {
      int number = i + 1;
      String line = lines.get(i).strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] keyword = line.split("\\s+", 2);
      String rest = keyword.length > 1 ? keyword[1] : "";
      switch (keyword[0]) {
        case "user" -> {
          if (rest.isEmpty()) {
            throw new SyntaxException(number, "'user' needs a principal name");
          }
          user = rest;
          byPrincipal.computeIfAbsent(user, u -> new ArrayList<>());
        }
        case "topic" -> {
          if (user == null) {
            throw new SyntaxException(
                number,
                "'topic' before any 'user' line (Mosquitto's anonymous rules) is not supported:"
                    + " put it under the user it is for");
          }
          byPrincipal.get(user).add(rule(number, rest, false));
        }
        case "pattern" -> patterns.add(rule(number, rest, true));
        default ->
            throw new SyntaxException(
                number,
                "unknown keyword '"
                    + keyword[0]
                    + "' (expected user, topic, pattern or a # comment)");
      }
    }
    Map<String, List<Rule>> frozen = new LinkedHashMap<>();
    byPrincipal.forEach((k, v) -> frozen.put(k, List.copyOf(v)));
    return new AclRules(Collections.unmodifiableMap(frozen), List.copyOf(patterns));
  }

  private static Rule rule(int number, String rest, boolean pattern) throws SyntaxException {
    String word = pattern ? "pattern" : "topic";
    if (rest.isEmpty()) {
      throw new SyntaxException(number, "'" + word + "' needs a topic filter");
    }
    String[] parts = rest.split("\\s+", 2);
    Access access = Access.READWRITE;
    String filter = rest;
    String first = parts[0].toLowerCase(Locale.ROOT);
    if (first.equals("read") || first.equals("write") || first.equals("readwrite")) {
      if (parts.length < 2) {
        throw new SyntaxException(number, "'" + word + " " + parts[0] + "' needs a topic filter");
      }
      access = Access.valueOf(first.toUpperCase(Locale.ROOT));
      filter = parts[1].strip();
    } else if (first.equals("deny")) {
      throw new SyntaxException(number, "'deny' is not supported: grant only what is allowed");
    }
    String invalid =
        TopicFilters.invalidReason(pattern ? filter.replace("%u", "u").replace("%c", "c") : filter);
    if (invalid != null) {
      throw new SyntaxException(number, invalid);
    }
    return new Rule(access, filter);
  }

  /** The number of principals named by {@code user} lines. */
  int principals() {
    return byPrincipal.size();
  }

  /**
   * Whether {@code principal} (connected with {@code clientId}) may subscribe to {@code filter}:
   * only when one rule with read access covers every topic the filter can match.
   */
  boolean canRead(String principal, String clientId, String filter) {
    return allowed(principal, clientId, filter, true);
  }

  /** Whether {@code principal} (connected with {@code clientId}) may publish to {@code topic}. */
  boolean canWrite(String principal, String clientId, String topic) {
    return !TopicFilters.hasWildcard(topic) && allowed(principal, clientId, topic, false);
  }

  private boolean allowed(String principal, String clientId, String requested, boolean read) {
    if (principal == null || principal.isEmpty() || TopicFilters.invalidReason(requested) != null) {
      return false;
    }
    for (Rule r : byPrincipal.getOrDefault(principal, List.of())) {
      if (grants(r, r.filter(), requested, read)) {
        return true;
      }
    }
    for (Rule r : patterns) {
      String filter = substitute(r.filter(), principal, clientId);
      if (filter != null && grants(r, filter, requested, read)) {
        return true;
      }
    }
    return false;
  }

  private static boolean grants(Rule r, String filter, String requested, boolean read) {
    return (read ? r.access().allowsRead() : r.access().allowsWrite())
        && TopicFilters.covers(filter, requested);
  }

  /** The pattern with %u and %c replaced, or null when it cannot apply to this client. */
  private static String substitute(String pattern, String principal, String clientId) {
    String result = pattern;
    if (result.contains("%u")) {
      if (!safeLevel(principal)) {
        return null;
      }
      result = result.replace("%u", principal);
    }
    if (result.contains("%c")) {
      if (clientId == null || !safeLevel(clientId)) {
        return null;
      }
      result = result.replace("%c", clientId);
    }
    return result;
  }

  private static boolean safeLevel(String value) {
    return !value.isEmpty()
        && value.indexOf('/') < 0
        && value.indexOf('+') < 0
        && value.indexOf('#') < 0;
  }
}
