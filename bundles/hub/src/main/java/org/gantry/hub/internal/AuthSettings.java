package org.gantry.hub.internal;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Who may call the management API: SigV4 access keys ({@code api.auth.keys}, {@code
 * ACCESS_KEY_ID:SECRET,...}), bearer tokens ({@code api.auth.tokens}, comma-separated), and a file
 * of both ({@code api.auth.file}: one {@code key ACCESS_KEY_ID SECRET} or {@code token TOKEN} per
 * line, {@code #} comments), so that secrets need not sit in a .cfg.
 *
 * @param keys access key id to secret access key
 * @param tokens bearer tokens
 */
record AuthSettings(Map<String, String> keys, List<String> tokens) {
  private static final Pattern KEY_ID = Pattern.compile("[A-Za-z0-9_]{1,128}");
  private static final Pattern SECRET = Pattern.compile("[\\x21-\\x7e&&[^,]]{1,256}");

  /** RFC 6750's token characters, at least 16 of them. */
  private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._~+/=-]{16,512}");

  AuthSettings {
    keys = Map.copyOf(keys);
    tokens = List.copyOf(tokens);
  }

  static AuthSettings none() {
    return new AuthSettings(Map.of(), List.of());
  }

  boolean enabled() {
    return !keys.isEmpty() || !tokens.isEmpty();
  }

  /**
   * Reads and checks the three keys.
   *
   * @throws IllegalArgumentException naming the key whose value is wrong (never quoting a secret)
   */
  static AuthSettings of(String keys, String tokens, String file) {
    Map<String, String> k = new LinkedHashMap<>();
    List<String> t = new ArrayList<>();
    for (String pair : split(keys)) {
      int colon = pair.indexOf(':');
      if (colon < 0) {
        throw new IllegalArgumentException(
            "api.auth.keys must be ACCESS_KEY_ID:SECRET pairs separated by commas");
      }
      addKey(k, pair.substring(0, colon), pair.substring(colon + 1), "api.auth.keys");
    }
    for (String token : split(tokens)) {
      addToken(t, token, "api.auth.tokens");
    }
    if (file != null && !file.isBlank()) {
      readFile(Path.of(file.trim()), k, t);
    }
    return new AuthSettings(k, t);
  }

  private static void readFile(Path path, Map<String, String> keys, List<String> tokens) {
    List<String> lines;
    try {
      lines = Files.readAllLines(path, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new IllegalArgumentException("api.auth.file " + path + " cannot be read: " + e, e);
    }
    int n = 0;
    for (String raw : lines) {
      n++;
      String line = raw.strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] f = line.split("\\s+");
      String where = "api.auth.file " + path + " line " + n;
      if (f.length == 3 && f[0].equals("key")) {
        addKey(keys, f[1], f[2], where);
      } else if (f.length == 2 && f[0].equals("token")) {
        addToken(tokens, f[1], where);
      } else {
        throw new IllegalArgumentException(
            where + " must be 'key ACCESS_KEY_ID SECRET' or 'token TOKEN'");
      }
    }
  }

  private static void addKey(Map<String, String> keys, String id, String secret, String where) {
    if (!KEY_ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          where + ": an access key id must be 1-128 characters of [A-Za-z0-9_]");
    }
    if (!SECRET.matcher(secret).matches()) {
      throw new IllegalArgumentException(
          where
              + ": the secret of access key "
              + id
              + " must be 1-256 printable characters without spaces or commas");
    }
    if (keys.putIfAbsent(id, secret) != null) {
      throw new IllegalArgumentException(where + ": access key " + id + " is given twice");
    }
  }

  private static void addToken(List<String> tokens, String token, String where) {
    if (!TOKEN.matcher(token).matches()) {
      throw new IllegalArgumentException(
          where + ": a bearer token must be 16-512 characters of [A-Za-z0-9._~+/=-]");
    }
    tokens.add(token);
  }

  private static List<String> split(String s) {
    List<String> out = new ArrayList<>();
    if (s != null) {
      for (String part : s.split(",")) {
        if (!part.isBlank()) {
          out.add(part.strip());
        }
      }
    }
    return out;
  }

  /**
   * Refuses an API on a non-loopback address without any credentials.
   *
   * @throws IllegalArgumentException naming the keys to set
   */
  void checkBinding(String apiHost) {
    if (enabled()) {
      return;
    }
    boolean loopback;
    try {
      loopback = InetAddress.getByName(apiHost).isLoopbackAddress();
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("api.host " + apiHost + " cannot be resolved", e);
    }
    if (!loopback) {
      throw new IllegalArgumentException(
          "api.host "
              + apiHost
              + " is not a loopback address, so the management API needs authentication: set"
              + " api.auth.keys, api.auth.tokens or api.auth.file");
    }
  }
}
