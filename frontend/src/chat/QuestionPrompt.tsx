/**
 * A question from the agent's `question` tool (`question.asked`): one or more questions, each with
 * options (single or multiple choice) and, unless `custom` is false, a free-text answer. Answered with
 * `POST /question/:id/reply { answers }` (one list of chosen labels per question) or dismissed with
 * `POST /question/:id/reject`.
 */
import { useState } from "react";
import { Icon } from "../ui/Icon.tsx";
import { toastError } from "../ui/toast.ts";
import { useAsyncAction } from "../ui/useAsyncAction.ts";
import { useChatStore } from "./ChatContext.tsx";
import type { QuestionInfo, QuestionRequest } from "./types.ts";

interface Answer {
  chosen: string[];
  custom: string;
}

/** The labels to send for one question: the chosen options, then the typed answer if any. */
export function answerLabels(answer: Answer): string[] {
  const custom = answer.custom.trim();
  return custom ? [...answer.chosen, custom] : answer.chosen;
}

function QuestionField({ info, answer, onChange }: { info: QuestionInfo; answer: Answer; onChange: (a: Answer) => void }) {
  const toggle = (label: string) => {
    if (info.multiple) {
      const chosen = answer.chosen.includes(label) ? answer.chosen.filter((l) => l !== label) : [...answer.chosen, label];
      onChange({ ...answer, chosen });
    } else onChange({ chosen: answer.chosen[0] === label ? [] : [label], custom: "" });
  };
  return (
    <fieldset className="question">
      <legend>
        <span className="question-header">{info.header}</span> {info.question}
      </legend>
      <div className="question-options" role={info.multiple ? "group" : "radiogroup"}>
        {info.options.map((option) => (
          <button
            key={option.label}
            type="button"
            role={info.multiple ? "checkbox" : "radio"}
            aria-checked={answer.chosen.includes(option.label)}
            className="question-option"
            title={option.description}
            onClick={() => toggle(option.label)}
          >
            <strong>{option.label}</strong>
            {option.description ? <span className="muted small">{option.description}</span> : null}
          </button>
        ))}
      </div>
      {info.custom !== false ? (
        <input
          className="input"
          placeholder="Or type your own answer"
          aria-label={`Your own answer: ${info.header}`}
          value={answer.custom}
          onChange={(e) => onChange({ chosen: info.multiple ? answer.chosen : [], custom: e.target.value })}
        />
      ) : null}
    </fieldset>
  );
}

/** The form for one pending question request. */
export function QuestionPrompt({ request }: { request: QuestionRequest }) {
  const { client } = useChatStore();
  const [answers, setAnswers] = useState<Answer[]>(() => request.questions.map(() => ({ chosen: [], custom: "" })));
  const { busy, run } = useAsyncAction();
  const complete = answers.every((a) => answerLabels(a).length > 0);

  const send = () =>
    run(async () => {
      try {
        await client.question.reply({ requestID: request.id, answers: answers.map(answerLabels) });
      } catch (err) {
        toastError("Could not send the answer", err);
      }
    });
  const dismiss = () =>
    run(async () => {
      try {
        await client.question.reject({ requestID: request.id });
      } catch (err) {
        toastError("Could not dismiss the question", err);
      }
    });

  return (
    <form
      className="permission question-prompt"
      role="alertdialog"
      aria-label="Question from the agent"
      onSubmit={(e) => {
        e.preventDefault();
        if (complete) void send();
      }}
    >
      <div className="permission-head">
        <Icon name="chat" size={15} />
        <span>The agent has {request.questions.length === 1 ? "a question" : `${request.questions.length} questions`}</span>
      </div>
      {request.questions.map((info, i) => (
        <QuestionField key={i} info={info} answer={answers[i]!} onChange={(a) => setAnswers((all) => all.map((x, j) => (j === i ? a : x)))} />
      ))}
      <div className="permission-actions">
        <button type="submit" className="btn btn-sm btn-primary" disabled={!complete || busy}>
          {busy ? <span className="spinner" /> : null} Answer
        </button>
        <button type="button" className="btn btn-sm" disabled={busy} onClick={dismiss}>
          Dismiss
        </button>
      </div>
    </form>
  );
}
