/**
 * The file editor: CodeMirror 6 (`codemirror` basicSetup: line numbers, history, search, bracket matching)
 * with the language picked from the file name (`@codemirror/language-data`, each grammar loaded on
 * demand). Ctrl/Cmd+S saves. Loaded lazily by FileViewer, so the editor's code is fetched only when a
 * file is edited.
 */
import { languages } from "@codemirror/language-data";
import { Compartment, EditorState } from "@codemirror/state";
import { EditorView, keymap } from "@codemirror/view";
import { basicSetup } from "codemirror";
import { LanguageDescription } from "@codemirror/language";
import { useEffect, useRef } from "react";

export interface CodeEditorProps {
  /** The file's name, for its language. */
  name: string;
  /** The text the editor starts with (a new value resets it). */
  initial: string;
  onChange: (text: string) => void;
  onSave: () => void;
}

/** See {@link CodeEditorProps}. */
export default function CodeEditor({ name, initial, onChange, onSave }: CodeEditorProps) {
  const host = useRef<HTMLDivElement>(null);
  const callbacks = useRef({ onChange, onSave });
  callbacks.current = { onChange, onSave };

  useEffect(() => {
    const language = new Compartment();
    const view = new EditorView({
      parent: host.current!,
      state: EditorState.create({
        doc: initial,
        extensions: [
          keymap.of([{ key: "Mod-s", preventDefault: true, run: () => (callbacks.current.onSave(), true) }]),
          basicSetup,
          language.of([]),
          EditorView.updateListener.of((u) => u.docChanged && callbacks.current.onChange(u.state.doc.toString())),
          EditorView.contentAttributes.of({ "aria-label": `Edit ${name}` }),
        ],
      }),
    });
    const description = LanguageDescription.matchFilename(languages, name);
    let live = true;
    void description?.load().then((support) => live && view.dispatch({ effects: language.reconfigure(support) }));
    view.focus();
    return () => {
      live = false;
      view.destroy();
    };
  }, [name, initial]);

  return <div className="code-editor" ref={host} />;
}
