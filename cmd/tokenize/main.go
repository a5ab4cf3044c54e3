// Command tokenize prints the token ids of each input line as a JSON array.
//
//	go run ./cmd/tokenize --tokenizer DIR < lines.txt
//	go run ./cmd/tokenize --tokenizer DIR --chat --generation-prompt < chats.jsonl
//
// DIR holds tokenizer.json (+ tokenizer_config.json) or GPT-2's vocab.json +
// merges.txt. Each input line is text, or with --chat a JSON array of
// {"role", "content"} messages rendered with the chat template first. Only
// the line's "\n" is removed, so a "\r" before it is part of the text.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/amopo-engine/amopo/tokenizer"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("tokenize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("tokenizer", "", "directory with tokenizer.json or vocab.json+merges.txt (required)")
	chat := fs.Bool("chat", false, "each line is a JSON array of {role, content} messages to render with the chat template")
	genPrompt := fs.Bool("generation-prompt", false, "with --chat, end with an open assistant turn")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *dir == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: tokenize --tokenizer DIR [--chat [--generation-prompt]] < input")
		return 2
	}
	tok, err := tokenizer.Load(*dir)
	if err != nil {
		fmt.Fprintln(stderr, "tokenize:", err)
		return 1
	}
	if err := tokenizeLines(tok, stdin, stdout, *chat, *genPrompt); err != nil {
		fmt.Fprintln(stderr, "tokenize:", err)
		return 1
	}
	return 0
}

func tokenizeLines(tok *tokenizer.Tokenizer, in io.Reader, out io.Writer, chat, genPrompt bool) error {
	r := bufio.NewReaderSize(in, 1<<16)
	w := bufio.NewWriter(out)
	for n := 1; ; n++ {
		line, err := r.ReadBytes('\n')
		if len(line) == 0 && errors.Is(err, io.EOF) {
			break
		}
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read line %d: %w", n, err)
		}
		text, perr := lineText(tok, bytes.TrimSuffix(line, []byte("\n")), chat, genPrompt)
		if perr != nil {
			return fmt.Errorf("line %d: %w", n, perr)
		}
		ids, _ := json.Marshal(tok.Encode(text)) // []int always marshals
		w.Write(ids)
		w.WriteByte('\n')
		if errors.Is(err, io.EOF) {
			break
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("write: %w", err)
	}
	return nil
}

// lineText returns the text to encode for one input line.
func lineText(tok *tokenizer.Tokenizer, line []byte, chat, genPrompt bool) (string, error) {
	if !utf8.Valid(line) {
		return "", errors.New("not valid UTF-8")
	}
	if !chat {
		return string(line), nil
	}
	var msgs []tokenizer.Message
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&msgs); err != nil {
		return "", fmt.Errorf("want a JSON array of {\"role\", \"content\"} messages: %w", err)
	}
	if dec.More() {
		return "", errors.New("unexpected data after the JSON array")
	}
	for i, m := range msgs {
		if m.Role == "" {
			return "", fmt.Errorf("message %d has no role", i)
		}
	}
	return tok.ApplyChatTemplate(msgs, genPrompt)
}
