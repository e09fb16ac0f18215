package org.gantry.launcher;

/** Configuration the runtime cannot start with; the message says what and where. Exit status 2. */
final class ConfigException extends Exception {

  private static final long serialVersionUID = 1L;

  ConfigException(String message) {
    super(message);
  }

  ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
