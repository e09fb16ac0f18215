package org.gantry.jobdoc.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.gantry.api.document.JobDocument;
import org.gantry.api.document.JobDocumentException;
import org.gantry.api.document.JobDocumentParser;
import org.gantry.api.document.JobStep;
import org.gantry.api.operation.DocumentReason;
import org.gantry.api.operation.JobParameters;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Parses job documents with Gson's streaming reader in strict mode and recognises their format.
 *
 * <p>Formats are told apart by shape (ARCHITECTURE.md, "Job document formats"): a top-level {@code
 * afr_ota} is AWS IoT OTA ({@link OtaFormat}), {@code version} with {@code steps[].action} is the
 * AWS IoT Device Client schema ({@link DeviceClientFormat}), anything else is Gantry's own. Every
 * format is normalised to the same {@link JobDocument}, so the engine and the operations never see
 * which one the service sent. Before the format is looked at, a presigned-URL placeholder anywhere
 * in the document refuses it ({@link Placeholders}).
 */
@Component(service = JobDocumentParser.class, immediate = true)
@Designate(ocd = GsonJobDocumentParser.Config.class)
public final class GsonJobDocumentParser implements JobDocumentParser {

  /** Configuration of the parser; nothing needs setting. */
  @ObjectClassDefinition(
      name = "Gantry job document parser",
      description = "Limits applied to job documents before anything runs.")
  public @interface Config {
    /**
     * Deepest nesting of objects and arrays accepted.
     *
     * @return the limit; the top-level object counts as 1
     */
    @AttributeDefinition(
        name = "Maximum depth",
        description =
            "Deepest nesting of objects and arrays accepted; the top-level object counts as 1.",
        min = "" + MIN_DEPTH,
        max = "" + MAX_DEPTH)
    int max_depth() default DEFAULT_DEPTH;
  }

  /** The nesting limit of AWS IoT Jobs tooling and of this parser by default. */
  static final int DEFAULT_DEPTH = 64;

  /** The steps format needs 3 levels: the document, its steps array, each step object. */
  static final int MIN_DEPTH = 3;

  /** Gson's own default nesting limit; deeper would only invite work on hostile input. */
  static final int MAX_DEPTH = 255;

  /** Most steps one document may hold; more is refused rather than run half-way. */
  static final int MAX_STEPS = 32;

  static final String OPERATION = "operation";
  static final String STEPS = "steps";
  static final String FINAL_STEP = "finalStep";

  private static final Pattern OPERATION_TYPE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,63}");

  private static final Logger LOG = LoggerFactory.getLogger(GsonJobDocumentParser.class);

  private final StrictJsonReader reader;

  /**
   * Creates the parser.
   *
   * @param config its limits
   * @throws IllegalArgumentException when {@code max.depth} is outside 3..255
   */
  @Activate
  public GsonJobDocumentParser(Config config) {
    this(config.max_depth());
  }

  GsonJobDocumentParser(int maxDepth) {
    if (maxDepth < MIN_DEPTH || maxDepth > MAX_DEPTH) {
      throw new IllegalArgumentException(
          "max.depth must be between " + MIN_DEPTH + " and " + MAX_DEPTH + ", but is " + maxDepth);
    }
    this.reader = new StrictJsonReader(maxDepth);
    LOG.debug("Job document parser ready, max.depth={}", maxDepth);
  }

  @Override
  public JobDocument parse(String json) throws JobDocumentException {
    if (json == null) {
      throw new JobDocumentException(
          DocumentReason.MALFORMED_JSON, "The job document is missing (null).");
    }
    // Before parsing: the length limit is what bounds the parser's time and memory.
    if (json.length() > MAX_CHARACTERS) {
      throw new JobDocumentException(
          DocumentReason.TOO_LARGE,
          "The job document has "
              + json.length()
              + " characters; at most "
              + MAX_CHARACTERS
              + " are allowed.");
    }
    Map<String, Object> root = reader.readObject(json);
    try {
      return interpret(root);
    } catch (IllegalArgumentException e) {
      // JobParameters.of and JobStep refuse only what the reader never produces; should that
      // ever change, the contract still holds: bad input yields JobDocumentException only.
      LOG.warn("Job document parsed but could not be converted", e);
      throw new JobDocumentException(
          DocumentReason.MALFORMED_JSON,
          "The job document holds a value the gateway cannot represent: " + e.getMessage());
    }
  }

  private static JobDocument interpret(Map<String, Object> root) throws JobDocumentException {
    Placeholders.check(root);
    if (OtaFormat.matches(root)) {
      return OtaFormat.read(root, MAX_STEPS);
    }
    if (DeviceClientFormat.matches(root)) {
      return DeviceClientFormat.read(root, MAX_STEPS);
    }
    boolean hasOperation = root.containsKey(OPERATION);
    boolean hasSteps = root.containsKey(STEPS);
    if (hasOperation && hasSteps) {
      throw new JobDocumentException(
          DocumentReason.UNKNOWN_FORMAT,
          "The job document is ambiguous: it has both \"operation\" (one step) and \"steps\""
              + " (several); use one of them.");
    }
    if (hasSteps) {
      List<JobStep> steps = steps(root);
      JobStep last = finalStep(root, steps.size());
      return new JobDocument(steps, last);
    }
    if (root.containsKey(FINAL_STEP)) {
      throw new JobDocumentException(
          DocumentReason.UNKNOWN_FORMAT,
          "The job document has \"finalStep\" without \"steps\"; a final step runs after"
              + " the steps: {\"steps\": [...], \"finalStep\": {\"operation\": ...}}.");
    }
    return new JobDocument(List.of(step(root, null)));
  }

  private static JobStep finalStep(Map<String, Object> root, int steps)
      throws JobDocumentException {
    if (!root.containsKey(FINAL_STEP)) {
      return null;
    }
    if (!(root.get(FINAL_STEP) instanceof Map<?, ?> m)) {
      throw new JobDocumentException(
          DocumentReason.UNKNOWN_FORMAT,
          "The job document's \"finalStep\" must be a step object, {\"operation\": ...}.");
    }
    if (steps + 1 > MAX_STEPS) {
      throw new JobDocumentException(
          DocumentReason.UNKNOWN_FORMAT,
          "The job document has "
              + (steps + 1)
              + " steps with its finalStep; at most "
              + MAX_STEPS
              + " are allowed.");
    }
    @SuppressWarnings("unchecked") // StrictJsonReader builds every object as Map<String, Object>
    Map<String, Object> object = (Map<String, Object>) m;
    return step(object, -1);
  }

  private static List<JobStep> steps(Map<String, Object> root) throws JobDocumentException {
    if (root.size() > (root.containsKey(FINAL_STEP) ? 2 : 1)) {
      List<String> others = new ArrayList<>(root.keySet());
      others.remove(STEPS);
      others.remove(FINAL_STEP);
      throw new JobDocumentException(
          DocumentReason.UNKNOWN_FORMAT,
          "A job document with \"steps\" may have no other top-level keys, but it also has "
              + quotedKeys(others)
              + "; put parameters inside the steps.");
    }
    if (!(root.get(STEPS) instanceof List<?> list)) {
      throw new JobDocumentException(
          DocumentReason.UNKNOWN_FORMAT,
          "The job document's \"steps\" must be an array of step objects.");
    }
    if (list.isEmpty()) {
      throw new JobDocumentException(
          DocumentReason.NO_OPERATION,
          "The job document's \"steps\" is empty: it names no operation to run.");
    }
    if (list.size() > MAX_STEPS) {
      throw new JobDocumentException(
          DocumentReason.UNKNOWN_FORMAT,
          "The job document has " + list.size() + " steps; at most " + MAX_STEPS + " are allowed.");
    }
    List<JobStep> steps = new ArrayList<>(list.size());
    for (int i = 0; i < list.size(); i++) {
      if (!(list.get(i) instanceof Map<?, ?> step)) {
        throw new JobDocumentException(
            DocumentReason.UNKNOWN_FORMAT,
            "Step "
                + i
                + " of the job document is not an object; each step is {\"operation\": ...}.");
      }
      @SuppressWarnings("unchecked") // StrictJsonReader builds every object as Map<String, Object>
      Map<String, Object> object = (Map<String, Object>) step;
      steps.add(step(object, i));
    }
    return steps;
  }

  /**
   * One step from an object holding "operation" and the parameters.
   *
   * @param index the step's index in "steps", -1 for "finalStep", or null for a single-operation
   *     document
   */
  private static JobStep step(Map<String, Object> object, Integer index)
      throws JobDocumentException {
    String where =
        index == null
            ? "The job document"
            : index < 0 ? "The job document's finalStep" : "Step " + index + " of the job document";
    Object operation = object.get(OPERATION);
    if (!(operation instanceof String type) || type.isBlank()) {
      String problem =
          operation == null
              ? (object.containsKey(OPERATION)
                  ? "has a null \"operation\""
                  : "has no \"operation\"")
              : operation instanceof String
                  ? "has a blank \"operation\""
                  : "has an \"operation\" that is not a string";
      throw new JobDocumentException(
          DocumentReason.NO_OPERATION,
          where
              + " "
              + problem
              + "; it must name the operation type to run, for example"
              + " {\"operation\": \"diagnostics\"}.");
    }
    if (!OPERATION_TYPE.matcher(type).matches()) {
      throw new JobDocumentException(
          DocumentReason.NO_OPERATION,
          where
              + " names the operation "
              + StrictJsonReader.quote(type)
              + ", which is not a valid operation type: use 1 to 64 of a-z, 0-9, '.', '_', '-',"
              + " starting with a letter or digit.");
    }
    Map<String, Object> parameters = new LinkedHashMap<>(object);
    parameters.remove(OPERATION);
    return new JobStep(type, JobParameters.of(parameters));
  }

  private static String quotedKeys(List<String> keys) {
    StringBuilder sb = new StringBuilder();
    int shown = Math.min(keys.size(), 5);
    for (int i = 0; i < shown; i++) {
      if (i > 0) {
        sb.append(", ");
      }
      sb.append(StrictJsonReader.quote(keys.get(i)));
    }
    if (keys.size() > shown) {
      sb.append(" and ").append(keys.size() - shown).append(" more");
    }
    return sb.toString();
  }
}
