package org.gantry.launcher;

import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;

/**
 * The launcher's own log lines, on stdout in the layout of the runtime's console appender ({@code
 * etc/org.ops4j.pax.logging.cfg}): the launcher runs outside the framework, before logging inside
 * it exists, and its lines should read like the rest. One line per event: line breaks inside a
 * message are folded.
 */
final class LauncherLog {

  private static final DateTimeFormatter ISO8601 =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss,SSS");

  private final PrintStream out;
  private final String logger;

  LauncherLog(PrintStream out, String logger) {
    this.out = out;
    this.logger = logger;
  }

  void info(String message) {
    log("INFO ", message);
  }

  void warn(String message) {
    log("WARN ", message);
  }

  void error(String message) {
    log("ERROR", message);
  }

  private void log(String level, String message) {
    String line =
        ISO8601.format(LocalDateTime.now(ZoneId.systemDefault()))
            + " "
            + level
            + " ["
            + Thread.currentThread().getName()
            + "] "
            + logger
            + " - "
            + oneLine(message);
    synchronized (out) {
      out.println(line);
      out.flush();
    }
  }

  static String oneLine(String message) {
    return message == null ? "null" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }
}
